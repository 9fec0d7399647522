"""The analysis session: facts once, results with a manifest that re-derives them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kefu.analysis import Analysis, analysis_options, rederive
from kefu.analysis.check_cache import CACHE_DIR
from kefu.cli import app
from kefu.config import get_settings
from kefu.demo import DemoConfig, generate
from kefu.store import Workspace

JUNE = (dt.date(2024, 6, 1), dt.date(2024, 6, 14))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("session") / "shop"
    generate(path, DemoConfig(messages=4000, agents=6, days=14, seed=5))
    return path


def test_one_session_answers_many_periods_from_the_same_facts(folder: Path) -> None:
    with Analysis(folder, analysis_options(qa=False)) as analysis:
        whole = analysis.metrics(*JUNE)
        first = analysis.metrics(dt.date(2024, 6, 1), dt.date(2024, 6, 7))
        second = analysis.metrics(dt.date(2024, 6, 8), dt.date(2024, 6, 14))
        assert analysis.metrics(*JUNE) is whole  # memoised
    for agent, values in whole.agents.items():
        # buyer-days are additive over days: the two weeks add up to the fortnight
        assert values["received"] == first.agents[agent]["received"] + \
            second.agents[agent]["received"]


def test_a_stored_evaluation_rederives_from_its_manifest(folder: Path, tmp_path: Path) -> None:
    options = analysis_options(session_gap_min=12, response_target_s=45)
    with Analysis(folder, options) as analysis:
        stored = json.loads(json.dumps(analysis.evaluate("presale", *JUNE).to_json_dict()))
    manifest = stored["manifest"]
    assert manifest["options"]["session_gap_min"] == 12
    assert manifest["scheme"]["name"] and len(manifest["scheme"]["sha256"]) == 64
    assert {f["file"] for f in manifest["inputs"]["messages"]} == {"messages.csv"}
    again = rederive(manifest, folder).to_json_dict()
    assert again["agents"] == stored["agents"]
    assert again["manifest"] == manifest

    changed = tmp_path / "changed"
    generate(changed, DemoConfig(messages=4000, agents=6, days=14, seed=6))
    with pytest.raises(ValueError, match=r"input \w+ differs from the manifest"):
        rederive(manifest, changed)


def test_metrics_json_and_xlsx_carry_the_manifest(folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["metrics", "--data", str(folder), "--start", "2024-06-01", "--end", "2024-06-14",
            "--no-qa"]
    out = json.loads(runner.invoke(app, args).stdout)
    assert out["manifest"]["options"]["qa"] is False
    assert out["manifest"]["kefu_version"]
    result = runner.invoke(app, [*args, "--format", "xlsx", "--out", str(tmp_path / "m.xlsx")])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "m.xlsx")["manifest"]
    cells = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert cells["options.session_gap_min"] == 30
    assert cells["inputs.messages"].startswith("messages.csv sha256:")


def test_settings_come_from_environment_and_kefu_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kefu.toml").write_text('tz = "Europe/Berlin"\nsession_gap_min = 20\n')
    assert get_settings().tz == "Europe/Berlin"
    assert analysis_options().session_gap_min == 20
    monkeypatch.setenv("KEFU_SESSION_GAP_MIN", "15")
    assert analysis_options().session_gap_min == 15  # the environment wins over the file
    assert analysis_options(session_gap_min=5).session_gap_min == 5  # an explicit value wins


def test_a_workspace_keeps_check_verdicts_and_reuses_them(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "ws"
    Workspace(workspace).import_files(sorted(folder.glob("*.csv")))
    with Analysis(workspace) as analysis:
        first = analysis.metrics(*JUNE)
        version = analysis.lexicon_version
    stored = pq.read_table(workspace / CACHE_DIR / f"{version}.parquet")
    assert stored.num_rows > 100

    import kefu.analysis.check_cache as cache

    def no_checks(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a cached verdict was checked again")

    monkeypatch.setattr(cache, "flag_messages", no_checks)
    with Analysis(workspace) as analysis:
        again = analysis.metrics(*JUNE)
    assert again.agents == first.agents
    with Analysis(folder) as plain:  # the export folder: no cache, every text checked
        assert plain.metrics(*JUNE).agents == first.agents
    quality = [k for k in first.keys if k.endswith(("_hits", "_rate"))]
    assert any(first.agents[a][k] for a in first.agents for k in quality)


def test_a_scheme_with_params_is_evaluated_under_them(folder: Path, tmp_path: Path) -> None:
    """A scheme's params: block overrides the analysis options for its evaluation only."""
    import yaml

    from kefu.scoring.scheme import TEMPLATES_DIR, SchemeError, parse_scheme

    data = yaml.safe_load((TEMPLATES_DIR / "presale.yaml").read_text(encoding="utf-8"))
    params = {"business_hours": "09:00-18:00", "turn_cap_s": 120, "transfer_credit": "most_turns"}
    scheme = parse_scheme({**data, "params": params})
    with Analysis(folder, analysis_options(qa=False)) as analysis:
        plain = analysis.evaluate("presale", *JUNE).to_json_dict()
        own = analysis.evaluate(scheme, *JUNE).to_json_dict()
        default_metrics = analysis.metrics(*JUNE)
        compared = analysis.whatif("presale", scheme, *JUNE).to_json_dict()
    totals = {a["agent_id"]: (a["total_a"], a["total_b"]) for a in compared["agents"]}
    own_totals = {a["agent_id"]: a["total"] for a in own["agents"]}
    for a in plain["agents"]:  # each scheme under its own params
        assert totals[a["agent_id"]] == (a["total"], own_totals[a["agent_id"]])
    with Analysis(folder, analysis_options(qa=False, **params)) as direct:
        expected = direct.metrics(*JUNE)
    for agent in own["agents"]:
        assert agent["metrics"]["avg_response_s"] == \
            expected.agents[agent["agent_id"]]["avg_response_s"]
    plain_avg = {a["agent_id"]: a["metrics"]["avg_response_s"] for a in plain["agents"]}
    changed = [a for a in own["agents"]
               if a["metrics"]["avg_response_s"] != plain_avg[a["agent_id"]]]
    assert changed  # the options really changed the numbers the scheme scored
    assert own["manifest"]["scheme"]["sha256"] != plain["manifest"]["scheme"]["sha256"]
    # the session's own numbers are untouched
    assert default_metrics.agents == Analysis(folder, analysis_options(qa=False)).metrics(
        *JUNE).agents
    for bad, message in (({"tz": "UTC"}, "time zone"), ({"day_cutof": "03:00"}, "unknown"),
                         ({"day_cutoff": "3 am"}, "HH:MM")):
        with pytest.raises(SchemeError, match=message):
            parse_scheme({**data, "params": bad})


class _FullMetricsOnly:
    """The session's source without metrics_for: every period computed in full."""

    def __init__(self, source: object) -> None:
        self.source = source

    def metrics(self, start: dt.date, end: dt.date) -> object:
        return self.source.metrics(start, end)  # type: ignore[attr-defined]

    def counts(self, start: dt.date, end: dt.date) -> object:
        return self.source.counts(start, end)  # type: ignore[attr-defined]

    def has_data(self, start: dt.date, end: dt.date) -> bool:
        return bool(self.source.has_data(start, end))  # type: ignore[attr-defined]


def test_segments_and_previous_period_need_only_their_metrics_and_agree(folder: Path) -> None:
    """An evaluation computes segments and the previous period for the scheme's keys only;
    the result equals one where every period is computed in full."""
    from kefu.scoring.evaluate import evaluate
    from kefu.scoring.scheme import load_scheme

    scheme = load_scheme("presale").model_copy(deep=True)
    scheme = scheme.model_validate({**scheme.model_dump(by_alias=True), "scenarios": [
        {**scheme.scenarios[0].model_dump(by_alias=True), "start": "06-10", "end": "06-12"}]})
    period = (dt.date(2024, 6, 8), dt.date(2024, 6, 14))
    with Analysis(folder) as analysis:
        fast = analysis.evaluate(scheme, *period).to_json_dict()
        full = evaluate(_FullMetricsOnly(analysis.source), scheme, *period).to_json_dict()  # type: ignore[arg-type]
    assert len(fast["segments"]) == 3 and fast["prev_start"] == "2024-06-01"
    fast.pop("manifest")
    full.pop("manifest")
    assert fast == full
    assert any(a["prev_total"] is not None for a in fast["agents"])
