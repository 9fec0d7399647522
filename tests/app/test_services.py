"""The app's one door to the core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kefu.app import services
from tests.app.conftest import END, START


def test_evaluate_reports_progress_and_returns_the_evaluation_and_its_manifest(
        demo_workspace: Path, evaluation: dict[str, Any]) -> None:
    seen: list[tuple[int, str]] = []
    computed = services.evaluate(demo_workspace, services.templates()["presale"],
                                         START, END, "Asia/Shanghai",
                                         lambda pct, msg: seen.append((pct, msg)))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[0] == 5 and percents[-1] == 90
    assert any(msg.startswith("loading ") for _, msg in seen[1:-2])
    result, manifest = computed.result, computed.manifest
    assert [a["total"] for a in result["agents"]] == [a["total"] for a in evaluation["agents"]]
    assert manifest["start"] == "2024-06-01" and manifest["scheme"]["name"]
    assert set(manifest["inputs"]) >= {"agents", "messages"}


def test_an_agents_rows_are_the_rows_of_its_own_query(workspace: Path) -> None:
    """Drill-down reads every agent's rows once and slices one agent's: the same rows as
    `kefu evidence --agent`, for every metric with rows, an unknown agent none."""
    from kefu.analysis import Analysis, analysis_options
    from kefu.metrics.registry import METRICS

    tz = "Asia/Shanghai"
    services.close_facts()
    with Analysis(workspace, analysis_options(tz=tz)) as analysis:
        agents = sorted(set(analysis.evidence("reply_rate", START, END)
                            .column("agent_id").to_pylist()))
        compared = 0
        for metric in (m.key for m in METRICS if not m.shop_only):
            for agent in agents[:2]:
                try:
                    alone = analysis.evidence(metric, START, END, agent)
                except ValueError:
                    continue  # no rows for this metric here (e.g. a table not given)
                sliced = services.evidence(workspace, tz, metric, START, END, agent)
                assert sliced.total == alone.num_rows, (metric, agent)
                # the same rows; rows of the same instant may come in another order
                assert sorted(map(repr, sliced.rows)) == sorted(
                    map(repr, services.evidence_rows_of(alone))), (metric, agent)
                compared += 1
        assert compared > 60
        assert services.evidence(workspace, tz, "reply_rate", START, END, "nobody").total == 0
    services.close_facts()


def test_warm_reads_the_chat_rows_so_a_first_chat_queries_nothing(
        workspace: Path, monkeypatch: Any) -> None:
    from kefu.analysis import Analysis

    tz = "Asia/Shanghai"
    services.close_facts()
    services.open_facts(workspace, tz)
    services.warm_drill_down(workspace, tz, [(START, END)])
    queried: list[str] = []
    real = Analysis.evidence
    monkeypatch.setattr(Analysis, "evidence", lambda self, metric, *a: (
        queried.append(metric), real(self, metric, *a))[1])
    turns = services.evidence(workspace, tz, "avg_response_s", START, END, "旗舰店:小美")
    buyer = next(r["buyer_id"] for r in turns.rows if r.get("answered"))
    found = services.conversations(workspace, tz, "旗舰店:小美", buyer, START, END)
    assert found and found[0]["messages"] and queried == []
    services.close_facts()


def test_a_chat_that_began_before_the_period_still_opens_from_its_hit(workspace: Path) -> None:
    """A hit on the period's first day links to its conversation, which may have begun
    the evening before: the chat page finds it by looking back (services.LOOK_BACK_DAYS)."""
    import datetime as dt

    tz = "Asia/Shanghai"
    services.close_facts()
    convs = services.evidence(workspace, tz, "conversations", START, END, None).rows
    def day_of(at: Any) -> dt.date:
        return dt.date.fromisoformat(str(at)[:10])

    crossing = next(c for c in convs
                    if day_of(c["last_at"]) > day_of(c["first_at"]) and c["conv_no"])
    day = day_of(crossing["last_at"])  # the conversation runs into this day
    found = services.conversations(workspace, tz, crossing["agent_id"], crossing["buyer_id"],
                                   day, END, crossing["conv_no"])
    assert [c["conv_no"] for c in found] == [crossing["conv_no"]]
    times = [m["at"] for m in found[0]["messages"]]
    assert any(t.startswith(str(day)) for t in times)  # its messages of the new period
    assert any(t < str(day) for t in times)  # and those from before it began
    assert dt.date.fromisoformat(found[0]["first_at"][:10]) < day
    services.close_facts()


def test_the_chat_index_finds_one_agents_messages_with_one_buyer_in_table_order() -> None:
    """A chat's messages come from an (agent, buyer) index, not a filter of the whole
    table: the same rows in the same order, across record batches, none for a pair that
    never spoke, and rows without a buyer or an agent never match."""
    import pyarrow as pa

    rows = [("a2", "b1", 1), ("a1", "b2", 2), ("a1", "b1", 3), ("a1", None, 4),
            ("a2", "b1", 5), (None, "b1", 6), ("a1", "b1", 7), ("a1", "b10", 8)]
    schema = pa.schema([("agent_id", pa.string()), ("buyer_id", pa.string()),
                        ("n", pa.int64())])
    batches = [pa.RecordBatch.from_pylist(
        [dict(zip(schema.names, r, strict=True)) for r in part], schema=schema)
        for part in (rows[:3], rows[3:5], rows[5:])]
    index = services._ChatIndex.of(pa.Table.from_batches(batches))

    def numbers(agent: str, buyer: str) -> list[int]:
        return index.rows(agent, buyer).column("n").to_pylist()

    assert numbers("a1", "b1") == [3, 7]  # two batches apart, in the table's order
    assert numbers("a2", "b1") == [1, 5]
    assert numbers("a1", "b2") == [2]
    assert numbers("a1", "b10") == [8]  # "b1" is a prefix of it: not the same buyer
    assert numbers("a2", "b2") == [] and numbers("a3", "b1") == []
    assert numbers("a1", "") == [] and index.rows("a1", "b1").schema == schema
