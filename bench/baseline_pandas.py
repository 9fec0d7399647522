"""Baseline (a): the core service metrics of metrics.md in straightforward pandas.

An independent implementation of the spec, written the way an analyst would
(sort, groupby, shift, cumsum), used by bench_metrics.py for timing and by
tests/bench to cross-check kefu's engine.

    python bench/baseline_pandas.py DATA_DIR START END   # prints JSON
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

CORE_KEYS = (
    "received", "replied", "reply_rate", "conversations",
    "first_response_s", "first_response_s_p50", "first_response_s_p90",
    "avg_response_s", "avg_response_s_p50", "avg_response_s_p90",
    "response_on_time_rate", "unanswered_turns", "answer_question_ratio",
)  # fmt: skip
THREAD = ["shop_id", "agent_id", "buyer_id"]


def _local(ts: pd.Series, tz: str) -> pd.Series:
    """Naive wall-clock time in ``tz`` (naive input already is)."""
    ts = pd.to_datetime(ts)
    if ts.dt.tz is not None:
        ts = ts.dt.tz_convert(tz).dt.tz_localize(None)
    return ts


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def _stats(values: pd.Series) -> tuple[float | None, float | None, float | None]:
    if len(values) == 0:
        return None, None, None
    v = values.to_numpy(dtype=float)
    return float(v.mean()), float(np.percentile(v, 50)), float(np.percentile(v, 90))


def core_metrics(
    data_dir: Path,
    start: dt.date,
    end: dt.date,
    tz: str = "Asia/Shanghai",
    session_gap_min: float = 30,
    response_target_s: float = 30,
) -> dict[str, dict[str, Any]]:
    """Per agent of agents.parquet, the core service metrics for days start..end."""
    agents = pd.read_parquet(data_dir / "agents.parquet", columns=["agent_id", "shop_id"])
    wanted = [*THREAD, "sender", "sent_at", "auto_reply", "conversation_id"]
    present = set(pq.read_schema(data_dir / "messages.parquet").names)
    m = pd.read_parquet(data_dir / "messages.parquet", columns=[c for c in wanted if c in present])
    m["ord"] = np.arange(len(m))  # file order breaks ties in sent_at
    m["sent_at"] = _local(m["sent_at"], tz)
    agent_shop = agents.set_index("agent_id")["shop_id"]
    if "shop_id" not in m:
        m["shop_id"] = None
    no_shop = m["shop_id"].isna() | m["shop_id"].eq("")
    if no_shop.any():
        m.loc[no_shop, "shop_id"] = m.loc[no_shop, "agent_id"].map(agent_shop)
    auto = m["auto_reply"].fillna(False).astype(bool) if "auto_reply" in m else False
    m["is_buyer"] = m["sender"].eq("buyer")
    m["human"] = m["sender"].eq("agent") & ~auto
    cid = m["conversation_id"] if "conversation_id" in m else pd.Series(None, index=m.index)
    m["has_id"] = cid.notna() & cid.ne("")
    m["cid"] = cid.where(m["has_id"], "")
    for col in THREAD:
        m[col] = m[col].astype("category")

    # Thread order: by time, ties in file order.
    m = m.sort_values([*THREAD, "sent_at", "ord"], kind="stable", ignore_index=True)
    m["pos"] = np.arange(len(m))

    # Conversations: (thread, conversation_id) where given, else split on gaps
    # strictly longer than session_gap among the thread's rows without an id.
    gap = m.groupby([*THREAD, "has_id"], observed=True)["sent_at"].diff()
    new = (gap.isna() | (gap > pd.Timedelta(minutes=session_gap_min))) & ~m["has_id"]
    seg = new.cumsum()
    by_id = m[m["has_id"]].groupby([*THREAD, "cid"], observed=True).ngroup()
    m["conv"] = seg
    m.loc[m["has_id"], "conv"] = by_id + seg.max() + 1
    m = m.sort_values(["conv", "sent_at", "ord"], kind="stable", ignore_index=True)
    m["day"] = m["sent_at"].dt.normalize()
    first_day, last_day = pd.Timestamp(start), pd.Timestamp(end)

    conv = m.groupby("conv").agg(
        agent_id=("agent_id", "first"), first_at=("sent_at", "min"), has_buyer=("is_buyer", "any")
    )
    conv["day"] = conv["first_at"].dt.normalize()
    conv = conv[(conv["day"] >= first_day) & (conv["day"] <= last_day)]

    # Buyer turns: runs of buyer lines among buyer and human-agent lines (bots,
    # system lines and auto-replies do not break a run); the human line right
    # after a run answers it.
    s = m[m["is_buyer"] | m["human"]].copy()
    prev_buyer = s.groupby("conv")["is_buyer"].shift(fill_value=False).astype(bool)
    s["turn_start"] = s["is_buyer"] & ~prev_buyer
    s["turn"] = s["turn_start"].cumsum()
    answers = s[s["human"] & prev_buyer].set_index("turn")["sent_at"]
    turns = s[s["turn_start"]][["conv", "agent_id", "sent_at", "turn"]].copy()
    turns["answer_at"] = turns["turn"].map(answers)
    turns["rt"] = (turns["answer_at"] - turns["sent_at"]).dt.total_seconds()
    turns["day"] = turns["sent_at"].dt.normalize()
    first_turns = turns.drop_duplicates("conv")
    first_turns = first_turns[first_turns["conv"].isin(conv.index)]
    turns = turns[(turns["day"] >= first_day) & (turns["day"] <= last_day)]

    # Buyer-days: replied when a human line of the agent to that buyer follows
    # the buyer's first line of the day on the same day.
    key = ["agent_id", "buyer_id", "day"]
    first_buyer = m[m["is_buyer"]].groupby(key, observed=True)["pos"].min().rename("first_pos")
    last_human = m[m["human"]].groupby(key, observed=True)["pos"].max().rename("last_human")
    bd = first_buyer.to_frame().join(last_human, how="left").reset_index()
    bd = bd[(bd["day"] >= first_day) & (bd["day"] <= last_day)]
    bd["replied"] = bd["last_human"] > bd["first_pos"]

    in_period = m[(m["day"] >= first_day) & (m["day"] <= last_day)]
    n_buyer = in_period[in_period["is_buyer"]].groupby("agent_id", observed=True).size()
    n_human = in_period[in_period["human"]].groupby("agent_id", observed=True).size()

    received = bd.groupby("agent_id", observed=True).size()
    replied = bd.groupby("agent_id", observed=True)["replied"].sum()
    n_conv = conv[conv["has_buyer"]].groupby("agent_id", observed=True).size()
    first_rt = {a: g["rt"].dropna() for a, g in first_turns.groupby("agent_id", observed=True)}
    turn_groups = dict(list(turns.groupby("agent_id", observed=True)))
    target = response_target_s

    out: dict[str, dict[str, Any]] = {}
    empty = pd.DataFrame({"rt": pd.Series(dtype=float)})
    for agent in agents["agent_id"]:
        t = turn_groups.get(agent, empty)
        answered = t["rt"].dropna()
        rec = int(received.get(agent, 0))
        rep = int(replied.get(agent, 0))
        fr = _stats(first_rt.get(agent, pd.Series(dtype=float)))
        ar = _stats(answered)
        out[agent] = {
            "received": rec,
            "replied": rep,
            "reply_rate": _ratio(rep, rec),
            "conversations": int(n_conv.get(agent, 0)),
            "first_response_s": fr[0],
            "first_response_s_p50": fr[1],
            "first_response_s_p90": fr[2],
            "avg_response_s": ar[0],
            "avg_response_s_p50": ar[1],
            "avg_response_s_p90": ar[2],
            "response_on_time_rate": _ratio(int((answered <= target).sum()), len(t)),
            "unanswered_turns": int(len(t) - len(answered)),
            "answer_question_ratio": _ratio(int(n_human.get(agent, 0)), int(n_buyer.get(agent, 0))),
        }
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    data, start, end = Path(argv[1]), dt.date.fromisoformat(argv[2]), dt.date.fromisoformat(argv[3])
    result = core_metrics(data, start, end)
    clean = {
        a: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for a, r in result.items()
    }
    sys.stdout.write(json.dumps(clean, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
