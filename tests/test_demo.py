"""The demo shop generator: deterministic, canonical, and realistic enough to test on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from kefu.demo import DemoConfig, build, generate
from kefu.ingest.schema import TABLES, Kind

SMALL = DemoConfig(messages=6_000, agents=24, seed=3, days=30)


@pytest.fixture(scope="module")
def shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, SMALL)
    return out


@pytest.fixture(scope="module")
def tables(shop_dir: Path) -> dict[str, pa.Table]:
    return {name: read_csv(shop_dir / f"{name}.csv") for name in TABLES}


def read_csv(path: Path) -> pa.Table:
    # empty cells are nulls (optional columns), as kefu's loader reads them
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        config = DemoConfig(messages=2_000, agents=12, seed=11, file_format=fmt)
        # three runs: a writer's stray bytes once showed up in 1 of 20 writes
        for run in "abc":
            generate(tmp_path / run, config)
        for name in TABLES:
            a = (tmp_path / "a" / f"{name}.{fmt}").read_bytes()
            for run in "bc":
                assert a == (tmp_path / run / f"{name}.{fmt}").read_bytes(), (name, run)


def test_other_seed_other_shop(tmp_path: Path) -> None:
    generate(tmp_path / "a", DemoConfig(messages=1_000, seed=1))
    generate(tmp_path / "b", DemoConfig(messages=1_000, seed=2))
    a = (tmp_path / "a" / "messages.csv").read_bytes()
    assert a != (tmp_path / "b" / "messages.csv").read_bytes()


@pytest.mark.parametrize("messages", [300, 6_000, 50_000])
def test_size_roughly_as_asked(messages: int) -> None:
    shop = build(DemoConfig(messages=messages, agents=24))
    assert 0.8 * messages <= shop.messages.num_rows <= 1.2 * messages


def test_every_canonical_column_with_valid_values(tables: dict[str, pa.Table]) -> None:
    for name, spec in TABLES.items():
        table = tables[name]
        assert table.column_names == [c.name for c in spec.columns], name
        for col in spec.columns:
            values = table.column(col.name)
            if col.required:
                assert values.null_count == 0, (name, col.name)
            if col.kind is Kind.ENUM:
                present = set(values.drop_null().to_pylist())
                assert present <= set(col.choices), (name, col.name, present)
            if col.kind is Kind.TIMESTAMP:
                assert pa.types.is_timestamp(values.type), (name, col.name)
        for key in spec.key:
            assert len(pc.unique(table.column(key))) == table.num_rows, (name, key)


def test_parquet_has_plain_types_and_naive_timestamps(tmp_path: Path) -> None:
    generate(tmp_path, DemoConfig(messages=500, file_format="parquet"))
    schema = pq.read_schema(tmp_path / "messages.parquet")
    assert schema.field("sent_at").type.tz is None
    assert schema.field("content").type == pa.string()
    assert schema.field("auto_reply").type == pa.bool_()


def test_csv_timestamps_are_wall_clock_text(shop_dir: Path) -> None:
    line = (shop_dir / "messages.csv").read_text(encoding="utf-8").splitlines()[1]
    assert any(len(f) == 19 and f[4] == "-" and f[10] == " " for f in line.split(","))


def test_regenerating_replaces_other_format(tmp_path: Path) -> None:
    generate(tmp_path, DemoConfig(messages=300))
    generate(tmp_path, DemoConfig(messages=300, file_format="parquet"))
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".parquet"] * len(TABLES)


def test_agents_teams_roles_and_shops(tables: dict[str, pa.Table]) -> None:
    agents = tables["agents"]
    assert agents.num_rows == 24
    assert set(agents.column("role").to_pylist()) == {"presale", "aftersale", "both"}
    teams = set(agents.column("team").to_pylist())
    assert {"售前一组", "售前二组", "售后组"} <= teams
    assert len(set(agents.column("shop_id").to_pylist())) == 2
    assert all(
        a.startswith(s + ":")
        for a, s in zip(
            agents.column("agent_id").to_pylist(), agents.column("shop_id").to_pylist(), strict=True
        )
    )
    # messages, ratings, cases and sessions only name known agents
    known = set(agents.column("agent_id").to_pylist())
    for name in ("messages", "ratings", "cases", "sessions"):
        assert set(tables[name].column("agent_id").to_pylist()) <= known, name
    # one agent has no chats at all (a new hire), and still is in agents
    assert len(set(tables["messages"].column("agent_id").to_pylist())) == 23


def test_chat_invariants(tables: dict[str, pa.Table]) -> None:
    m = tables["messages"].to_pandas()
    senders = m["sender"].value_counts()
    assert {"buyer", "agent", "bot", "system"} <= set(senders.index)
    assert m.loc[m.auto_reply, "sender"].eq("agent").all() and m.auto_reply.sum() > 0
    hours = m.sent_at.dt.hour.value_counts()
    assert hours[[10, 11, 21]].min() > 4 * hours[[3, 4]].max()  # busy mornings and evenings
    assert hours[list(range(0, 7))].sum() > 0  # some night messages
    # both shops' rules: explicit conversation ids for one, derived for the other
    assert m.conversation_id.notna().any() and m.conversation_id.isna().any()
    text = " ".join(m.content.dropna().astype(str).tolist())
    for phrase in (
        "亲",
        "您好",
        "请问还有其他",
        "祝您生活愉快",
        "加我微信",
        "不知道",
        "我要投诉",
        "非常理解您的心情",
        "给您添麻烦了",
    ):
        assert phrase in text, phrase
    assert m.content.astype(str).str.contains(r"1[3-9]\d{9}").any()  # phone numbers
    # several buyer lines in a row, and transfers (same buyer, two agents)
    run = (m.sender == "buyer") & (m.groupby(["agent_id", "buyer_id"]).sender.shift() == "buyer")
    assert run.sum() > 100
    assert (m.groupby("buyer_id").agent_id.nunique() > 1).sum() > 10


def test_turns_unanswered_and_response_times_vary(tables: dict[str, pa.Table]) -> None:
    m = tables["messages"].to_pandas()
    m = m.sort_values(["shop_id", "agent_id", "buyer_id", "sent_at"], kind="stable")
    human = (m.sender == "agent") & ~m.auto_reply
    thread = ["shop_id", "agent_id", "buyer_id"]
    gap = m.groupby(thread).sent_at.diff()
    assert (gap > pd.Timedelta(minutes=30)).sum() > 50  # threads split into several conversations
    # conversations ending on a buyer line: unanswered turns
    ends = m.groupby(thread).sent_at.shift(-1).sub(m.sent_at).fillna(
        pd.Timedelta(minutes=99)
    ) > pd.Timedelta(minutes=30)
    assert (ends & (m.sender == "buyer")).sum() > 10
    # buyer -> next human answer delay, per agent: medians differ between agents
    m["answer_at"] = m.sent_at.where(human).groupby([m[c] for c in thread]).bfill()
    first = m[(m.sender == "buyer") & (m.groupby(thread).sender.shift() != "buyer")]
    delay = (first.answer_at - first.sent_at).dt.total_seconds().dropna()
    med = delay.groupby(first.agent_id).median()
    assert med.max() > 2.5 * med.min()
    assert delay.quantile(0.99) > 8 * delay.median()  # long tail


def test_orders_ratings_cases_sessions(tables: dict[str, pa.Table]) -> None:
    o = tables["orders"].to_pandas()
    m = tables["messages"].to_pandas()
    assert o.paid_at.isna().any() and o.paid_at.notna().mean() > 0.8
    assert (o.refund_amount > 0).any() and (o.refund_amount <= o.amount + 1e-9).all()
    chatted = set(m.buyer_id)
    assert (~o.buyer_id.isin(chatted)).sum() > 10  # buyers who never chatted
    # orders created the same or the next day after a buyer's first message
    first = m[m.sender == "buyer"].groupby("buyer_id").sent_at.min()
    after = o.created_at - o.buyer_id.map(first)
    assert ((after > pd.Timedelta(minutes=0)) & (after < pd.Timedelta(minutes=48 * 60))).sum() > 50

    r = tables["ratings"].to_pandas()
    share = r.score.value_counts(normalize=True)
    assert share[5] > 0.5 and set(share.index) == {1, 2, 3, 4, 5}
    assert r.comment.notna().any() and r.comment.isna().any()

    c = tables["cases"].to_pandas()
    assert set(c.kind) == {"refund", "return", "complaint", "dispute"}
    assert c.platform_intervened.any() and c.closed_at.isna().any()
    assert c.outcome[c.closed_at.isna()].isna().all()
    assert (c.closed_at.dropna() > c.opened_at[c.closed_at.notna()]).all()
    assert set(c.order_id) <= set(o.order_id)

    s = tables["sessions"].to_pandas()
    assert set(s.status) == {"online", "busy", "away"}
    assert (s.ended_at > s.started_at).all()
    s = s.sort_values(["agent_id", "started_at"])
    overlap = s.started_at < s.groupby("agent_id").ended_at.shift()
    assert overlap.any()  # a second device logged in at the same time


def test_repeat_contacts_within_48h(tables: dict[str, pa.Table]) -> None:
    m = tables["messages"].to_pandas()
    b = m[m.sender == "buyer"].sort_values(["buyer_id", "sent_at"])
    gap = b.groupby("buyer_id").sent_at.diff()
    assert ((gap > pd.Timedelta(minutes=30)) & (gap <= pd.Timedelta(minutes=48 * 60))).sum() > 100


def test_tiny_configs_work() -> None:
    for agents in (1, 2, 5, 9):
        shop = build(DemoConfig(messages=200, agents=agents, days=3))
        assert shop.agents.num_rows == agents
        assert shop.messages.num_rows > 0


def test_summary_and_start_date(tmp_path: Path) -> None:
    summary = generate(tmp_path, DemoConfig(messages=500, start=dt.date(2024, 11, 1), days=7))
    assert "agents" in summary and "messages" in summary and "2024-11-01..2024-11-07" in summary
    m = read_csv(tmp_path / "messages.csv").to_pandas()
    assert m.sent_at.min() >= dt.datetime(2024, 11, 1)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError):
        DemoConfig(file_format="xlsx")
    with pytest.raises(ValueError):
        DemoConfig(messages=0)
