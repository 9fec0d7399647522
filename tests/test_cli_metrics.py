"""`kefu metrics` as cli.md promises: JSON/CSV/XLSX, parameters, exit code 2 on bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kefu.cli import app
from kefu.metrics.registry import METRICS

runner = CliRunner()

AGENTS = (
    "agent_id,name,shop_id,team,role\n"
    "店:小美,小美,店,售前一组,presale\n"
    "店:小王,小王,店,售后组,aftersale\n"
)
MESSAGES = (
    "shop_id,agent_id,buyer_id,sender,sent_at,content,auto_reply\n"
    "店,店:小美,买家1,buyer,2024-06-01 10:00:00,在吗,\n"
    "店,店:小美,买家1,agent,2024-06-01 10:00:20,亲，在的，请问有什么可以帮您,否\n"
    "店,店:小美,买家1,buyer,2024-06-01 10:40:00,好的谢谢,\n"
)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "agents.csv").write_text(AGENTS, encoding="utf-8")
    (tmp_path / "messages.csv").write_text(MESSAGES, encoding="utf-8")
    return tmp_path


def metrics(*args: str) -> object:
    return runner.invoke(app, ["metrics", *args])


def test_json_has_every_key_for_every_agent_team_and_shop(shop: Path) -> None:
    res = metrics("--data", str(shop), "--start", "2024-06-01", "--end", "2024-06-30")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["start"] == "2024-06-01" and out["end"] == "2024-06-30"
    assert set(out["agents"]) == {"店:小美", "店:小王"}
    assert set(out["teams"]) == {"售前一组", "售后组"} and set(out["shops"]) == {"店"}
    keys = [m.key for m in METRICS]
    for group in ("agents", "teams", "shops"):
        for values in out[group].values():
            assert list(values) == keys
    amy = out["agents"]["店:小美"]
    assert amy["first_response_s"] == 20 and amy["conversations"] == 2
    assert out["agents"]["店:小王"]["reply_rate"] is None


def test_parameters_and_no_qa(shop: Path) -> None:
    res = metrics("--data", str(shop), "--start", "2024-06-01", "--end", "2024-06-01",
                  "--session-gap-min", "60", "--no-qa")
    out = json.loads(res.stdout)
    assert out["agents"]["店:小美"]["conversations"] == 1
    assert "polite_rate" not in out["agents"]["店:小美"]


def test_csv_and_xlsx_outputs(shop: Path, tmp_path: Path) -> None:
    res = metrics("--data", str(shop), "--start", "2024-06-01", "--end", "2024-06-01",
                  "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["level"] for r in rows] == ["agent", "agent", "team", "team", "shop"]
    assert rows[0]["first_response_s"] == "20.0"
    target = tmp_path / "out.xlsx"
    res = metrics("--data", str(shop), "--start", "2024-06-01", "--end", "2024-06-01",
                  "--format", "xlsx", "--out", str(target))
    assert res.exit_code == 0, res.output
    sheet = load_workbook(target)["客服"]
    header = [c.value for c in sheet[1]]
    assert "首次响应时间 first_response_s" in header
    assert sheet.cell(2, 1).value == "店:小美"


def test_bad_input_exits_2_with_file_line_column(shop: Path) -> None:
    (shop / "messages.csv").write_text(
        MESSAGES + "店,店:小美,买家2,buyer,2024-06-31 10:00:00,hi,\n", encoding="utf-8"
    )
    res = metrics("--data", str(shop), "--start", "2024-06-01", "--end", "2024-06-01")
    assert res.exit_code == 2
    assert "messages.csv:5" in res.output and "sent_at" in res.output


def test_bad_dates_exit_2(shop: Path) -> None:
    res = metrics("--data", str(shop), "--start", "2024-06-31", "--end", "2024-06-01")
    assert res.exit_code == 2 and "--start" in res.output
    res = metrics("--data", str(shop), "--start", "2024-06-02", "--end", "2024-06-01")
    assert res.exit_code == 2


def test_a_chinese_xlsx_export_and_gbk_csv_give_the_same_metrics(tmp_path: Path) -> None:
    """A Qianniu-style export: Chinese headers and values, Excel times, a GBK agents list."""
    from openpyxl import Workbook

    xlsx_dir, csv_dir = tmp_path / "xlsx", tmp_path / "csv"
    xlsx_dir.mkdir()
    csv_dir.mkdir()
    agents = "子账号,姓名,店铺,组别,岗位\n店:小美,小美,店,售前一组,售前\n"
    for folder in (xlsx_dir, csv_dir):
        (folder / "agents.csv").write_bytes(agents.encode("gbk"))
    rows = [
        ("店:小美", "买家1", "买家", dt.datetime(2024, 6, 1, 10, 0, 0), "在吗"),
        ("店:小美", "买家1", "店小蜜", dt.datetime(2024, 6, 1, 10, 0, 1), "您好，我是智能助手"),
        ("店:小美", "买家1", "客服", dt.datetime(2024, 6, 1, 10, 0, 45), "亲，在的"),
    ]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客服", "买家昵称", "发送方", "发送时间", "消息内容"])
    for row in rows:
        sheet.append(list(row))
    book.save(xlsx_dir / "messages.xlsx")
    lines = ["客服,买家昵称,发送方,发送时间,消息内容"] + [
        f"{a},{b},{s},{t:%Y/%m/%d %H:%M:%S},{c}" for a, b, s, t, c in rows
    ]
    (csv_dir / "messages.csv").write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    outputs = []
    for folder in (xlsx_dir, csv_dir):
        res = metrics("--data", str(folder), "--start", "2024-06-01", "--end", "2024-06-01")
        assert res.exit_code == 0, res.output
        output = json.loads(res.stdout)
        # the manifests name different input files; the numbers must agree
        assert output.pop("manifest")["inputs"]["messages"][0]["file"].startswith("messages")
        outputs.append(output)
    assert outputs[0] == outputs[1]
    amy = outputs[0]["agents"]["店:小美"]
    assert amy["first_response_s"] == 45  # the bot (店小蜜) does not answer
    assert amy["inquiries"] == 1 and amy["polite_rate"] == 1


def test_reading_progress_reaches_the_callback_and_the_core_draws_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kefu.analysis import Analysis, analysis_options
    from kefu.demo import DemoConfig, generate

    generate(tmp_path, DemoConfig(messages=2000, agents=4, days=3, seed=2))
    seen: list[tuple[int, int, str]] = []
    with Analysis(tmp_path, analysis_options(qa=False),
                  progress=lambda done, total, label: seen.append((done, total, label))):
        pass
    total = sum(p.stat().st_size for p in tmp_path.glob("*.csv"))
    assert seen[-1] == (total, total, "read")
    assert ("reading messages.csv" in {label for _, _, label in seen})
    assert [done for done, _, _ in seen] == sorted(done for done, _, _ in seen)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
