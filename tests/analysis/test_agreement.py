"""One analysis under every command: metrics, evidence and evaluate agree, whatever the options.

Non-default session gap, response target, a mapping profile and the shop's own
lexicons are given to each command; every number must be the same in all three.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.demo import DemoConfig, generate
from kefu.qa import floors

PERIOD = ["--start", "2024-06-01", "--end", "2024-06-10"]
PROFILE = """
name: 测试导出
tables:
  messages:
    columns:
      聊天文本: content
      发送人: sender
      发送时刻: sent_at
"""
# the shop's own forbidden phrase: a greeting the demo agents really send
FORBIDDEN = "有什么可以帮您\n"
SCHEME = """
name: 一致性检查
version: "1"
applies_to: {roles: [presale, aftersale, both]}
items:
  - {key: avg_response_s, weight: 0.3, rule: linear, floor: 120, target: 10}
  - {key: response_on_time_rate, weight: 0.3, rule: linear, floor: 0.2, target: 0.9}
  - {key: forbidden_hits, weight: 0.2, rule: linear, floor: 40, target: 0}
  - {key: reply_rate, weight: 0.2, rule: linear, floor: 0.5, target: 1}
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("agree")
    data = root / "data"
    generate(data, DemoConfig(messages=5000, agents=8, days=10, seed=11))
    # the shop's export names three columns its own way: only the profile maps them
    text = (data / "messages.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    header = (header.replace('"content"', '"聊天文本"').replace('"sender"', '"发送人"')
              .replace('"sent_at"', '"发送时刻"'))
    (data / "messages.csv").write_text(header + "\n" + rest, encoding="utf-8")
    (root / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    (root / "lexicons").mkdir()
    (root / "lexicons" / "forbidden.txt").write_text(FORBIDDEN, encoding="utf-8")
    (root / "scheme.yaml").write_text(SCHEME, encoding="utf-8")
    return {"data": data, "profile": root / "profile.yaml", "lexicons": root / "lexicons",
            "scheme": root / "scheme.yaml"}


def options(shop: dict[str, Path]) -> list[str]:
    return ["--session-gap-min", "7", "--response-target-s", "20",
            "--profile", str(shop["profile"]), "--lexicons", str(shop["lexicons"])]


def kefu(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def evidence(shop: dict[str, Path], metric: str, agent: str) -> list[dict[str, Any]]:
    out = kefu("evidence", "--data", str(shop["data"]), *PERIOD, "--metric", metric,
               "--agent", agent, *options(shop))
    return list(csv.DictReader(io.StringIO(out)))


@pytest.fixture
def every_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count forbidden_hits although its verdict misses its floor (kefu.qa.floors):
    the shop's own forbidden phrase is what these tests follow through the commands."""
    monkeypatch.setattr(floors, "MEETS_FLOOR", dict.fromkeys(floors.MEETS_FLOOR, True))


@pytest.mark.usefixtures("every_verdict")
def test_metrics_evidence_and_evaluate_agree_under_non_default_options(
    shop: dict[str, Path],
) -> None:
    data = str(shop["data"])
    metrics = json.loads(kefu("metrics", "--data", data, *PERIOD, *options(shop)))
    assert metrics["manifest"]["options"]["session_gap_min"] == 7
    evaluation = json.loads(kefu("evaluate", "--data", data, "--scheme", str(shop["scheme"]),
                                 *PERIOD, *options(shop)))
    busiest = max(metrics["agents"], key=lambda a: metrics["agents"][a]["received"])
    values = metrics["agents"][busiest]

    turns = evidence(shop, "avg_response_s", busiest)
    answered = [float(t["response_s"]) for t in turns if t["answered"] == "True"]
    assert sum(answered) / len(answered) == pytest.approx(values["avg_response_s"])
    on_time = sum(1 for r in answered if r <= 20)
    assert on_time / len(turns) == pytest.approx(values["response_on_time_rate"])
    conversations = evidence(shop, "conversations", busiest)
    assert len(conversations) == values["conversations"]
    messages = evidence(shop, "forbidden_hits", busiest)
    hits = [m for m in messages if m["sender"] == "agent" and m["qa_forbidden"] == "True"]
    assert len(hits) == values["forbidden_hits"] > 0
    assert any("有什么可以帮您" in m["content"] for m in hits)  # the shop's own phrase counts

    scored = next(a for a in evaluation["agents"] if a["agent_id"] == busiest)
    for item in scored["items"]:
        assert item["value_raw"] == pytest.approx(values[item["key"]]), item["key"]
    assert scored["metrics"] == values
    assert evaluation["manifest"]["lexicon_version"] == metrics["manifest"]["lexicon_version"]


@pytest.mark.usefixtures("every_verdict")
def test_the_options_change_the_numbers(shop: dict[str, Path]) -> None:
    """Guards the test above: with default options the same agent's numbers differ."""
    data = str(shop["data"])
    tuned = json.loads(kefu("metrics", "--data", data, *PERIOD, *options(shop)))
    plain = json.loads(kefu("metrics", "--data", data, *PERIOD, "--profile",
                            str(shop["profile"])))
    changed = {key for agent, values in tuned["agents"].items()
               for key, value in values.items() if plain["agents"][agent][key] != value}
    assert {"conversations", "response_on_time_rate", "forbidden_hits"} <= changed


def test_every_command_takes_the_same_analysis_options() -> None:
    from kefu.config import AnalysisFields

    flags = {"--" + name.replace("_", "-") for name in AnalysisFields.model_fields}
    for command in (["metrics"], ["evidence"], ["evaluate"], ["whatif"], ["training"],
                    ["import"], ["qa", "scan"]):
        result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "250"})
        assert result.exit_code == 0
        missing = {f for f in flags if f not in result.stdout}
        assert not missing, (command, missing)
