"""A second shop layout for the benchmarks: ~200 agents and long threads.

kefu's demo generator makes many short chats; real platforms also have regulars
who write to the same agent for weeks (long threads, many conversations per
thread). This layout draws few buyers per agent and many messages per buyer,
over one month, as canonical Parquet (agents, messages).

    python bench/long_threads.py OUT_DIR --messages 10000000 --agents 200
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TEXTS = ("在吗", "这个什么时候发货", "亲，您好，请问有什么可以帮您", "好的，马上为您查询",
         "还没到", "您前台是可以看到预计送达时间的", "谢谢", "不客气，祝您生活愉快")


def generate(out: Path, messages: int, agents: int, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    agent_ids = [f"店{a % 3}:客服{a:03d}" for a in range(agents)]
    pq.write_table(pa.table({
        "agent_id": agent_ids, "name": [a.split(":")[1] for a in agent_ids],
        "shop_id": [a.split(":")[0] for a in agent_ids],
        "team": [f"组{a % 12}" for a in range(agents)],
        "role": ["presale" if a % 3 else "both" for a in range(agents)],
    }), out / "agents.parquet")
    # ~60 messages per thread: each agent keeps its buyers for the whole month
    threads = max(1, messages // 60)
    thread_agent = rng.integers(0, agents, threads)
    per_thread = rng.multinomial(messages, np.full(threads, 1 / threads))
    thread_of = np.repeat(np.arange(threads), per_thread)
    start = int(dt.datetime(2024, 6, 1, tzinfo=dt.UTC).timestamp())
    # a thread is a sequence of visits: quick replies inside a visit (mean 60 s), and
    # one message in five opens a new visit about a day later
    long = rng.random(messages) < 0.2
    gaps = np.where(long, rng.exponential(86_400, messages), rng.exponential(60, messages))
    gaps = gaps.astype(np.int64) + 1
    first = np.zeros(messages, dtype=bool)
    first[np.cumsum(per_thread)[:-1][per_thread[:-1] > 0]] = True
    first[0] = True
    offset = rng.integers(0, 86_400, threads)[thread_of]
    cum = np.cumsum(gaps)
    base = np.maximum.accumulate(np.where(first, cum, 0))
    seconds = start + offset + (cum - base) % (30 * 86_400)
    order = np.lexsort((seconds, thread_of))
    thread_of, seconds = thread_of[order], seconds[order]
    sender = np.where(rng.random(messages) < 0.5, "buyer", "agent")
    sent = pa.array(seconds * 1_000_000, pa.int64()).cast(pa.timestamp("us", "UTC"))
    text = pa.array(rng.integers(0, len(TEXTS), messages)).cast(pa.int32())
    pq.write_table(pa.table({
        "shop_id": pa.array([a.split(":")[0] for a in agent_ids])
        .take(pa.array(thread_agent[thread_of])),
        "agent_id": pa.array(agent_ids).take(pa.array(thread_agent[thread_of])),
        "buyer_id": pa.array(np.char.add("b", thread_of.astype(str))),
        "sender": pa.array(sender),
        "sent_at": sent,
        "content": pa.DictionaryArray.from_arrays(text, pa.array(TEXTS)).cast(pa.string()),
        "auto_reply": pa.array(np.zeros(messages, dtype=bool)),
    }), out / "messages.parquet", row_group_size=1_000_000)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--agents", type=int, default=200)
    args = ap.parse_args()
    generate(args.out, args.messages, args.agents)
