"""Baseline (b): the core service metrics of metrics.md as one hand-written DuckDB query.

An independent implementation of the spec over ``read_parquet``: the yardstick
kefu's engine is timed against in bench_metrics.py, and a cross-check in tests/bench.

    python bench/baseline_duckdb.py DATA_DIR START END   # prints JSON
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

CORE_KEYS = (
    "received", "replied", "reply_rate", "conversations",
    "first_response_s", "first_response_s_p50", "first_response_s_p90",
    "avg_response_s", "avg_response_s_p50", "avg_response_s_p90",
    "response_on_time_rate", "unanswered_turns", "answer_question_ratio",
)  # fmt: skip

# {sent_at}: the local wall-clock expression; {gap_s}, {target_s}: parameters;
# {shop_id}, {auto_reply}, {conversation_id}: the optional columns, or NULL.
QUERY = """
WITH
ag AS (SELECT agent_id, shop_id AS agent_shop FROM read_parquet($agents)),
m AS (
    SELECT coalesce(nullif({shop_id}, ''), ag.agent_shop) AS shop_id,
           m.agent_id, m.buyer_id,
           {sent_at} AS ts,
           CAST({sent_at} AS DATE) AS day,
           m.sender = 'buyer' AS is_buyer,
           m.sender = 'agent' AND NOT coalesce({auto_reply}, false) AS human,
           nullif({conversation_id}, '') AS cid,
           m.file_row_number AS ord              -- file order breaks ties in sent_at
    FROM read_parquet($messages, file_row_number = true) AS m
    LEFT JOIN ag USING (agent_id)
),
-- Every window runs over the same partition and order (a thread, or one
-- explicit conversation id in it, by time then file order), three passes.
-- l1: a new conversation after a gap strictly longer than the session gap
-- (rows with a conversation_id: their partition is the conversation).
l1 AS (
    SELECT *,
           row_number() OVER w AS pos,
           CASE WHEN cid IS NULL THEN coalesce(epoch(ts) - epoch(lag(ts) OVER w) > {gap_s}, true)
                ELSE lag(ts) OVER w IS NULL END AS new_conv
    FROM m
    WINDOW w AS (PARTITION BY shop_id, agent_id, buyer_id, cid ORDER BY ts, ord)
),
-- l2: where the current conversation began, and the previous buyer or
-- human-agent line (bots, system lines and auto-replies are skipped).
l2 AS (
    SELECT *,
           max(CASE WHEN new_conv THEN pos END) OVER wr AS conv_pos,
           max(CASE WHEN new_conv THEN ts END) OVER wr AS conv_ts,
           lag(CASE WHEN is_buyer OR human THEN pos END IGNORE NULLS) OVER w AS prev_pos,
           lag(CASE WHEN is_buyer OR human THEN is_buyer END IGNORE NULLS) OVER w AS prev_buyer,
           lag(CASE WHEN is_buyer THEN pos END IGNORE NULLS) OVER w AS prev_buyer_pos
    FROM l1
    WINDOW w AS (PARTITION BY shop_id, agent_id, buyer_id, cid ORDER BY ts, ord),
           wr AS (w ROWS UNBOUNDED PRECEDING)
),
-- after_buyer: the previous buyer/human line of the conversation is a
-- buyer's, so a buyer line continues a turn and a human line answers one.
l2b AS (
    SELECT *,
           coalesce(prev_buyer AND prev_pos >= conv_pos, false) AS after_buyer,
           is_buyer AND coalesce(prev_buyer_pos < conv_pos, true) AS first_buyer_of_conv
    FROM l2
),
-- l3: each turn start looks ahead to the next answering line; it answers
-- this turn only if it is in the same conversation.
l3 AS (
    SELECT agent_id, ts, conv_ts, first_buyer_of_conv, conv_pos,
           lead(CASE WHEN human AND after_buyer THEN ts END IGNORE NULLS) OVER w AS ans_ts,
           lead(CASE WHEN human AND after_buyer THEN conv_pos END IGNORE NULLS) OVER w AS ans_conv,
           is_buyer AND NOT after_buyer AS turn_start
    FROM l2b
    WHERE is_buyer OR (human AND after_buyer)
    WINDOW w AS (PARTITION BY shop_id, agent_id, buyer_id, cid ORDER BY ts, ord)
),
turns AS (
    SELECT agent_id, ts, conv_ts, first_buyer_of_conv,
           CASE WHEN ans_conv = conv_pos THEN epoch(ans_ts) - epoch(ts) END AS rt
    FROM l3 WHERE turn_start
),
turn_stats AS (
    SELECT agent_id,
           count(*) AS turns,
           count(rt) AS answered,
           count(*) FILTER (WHERE rt <= {target_s}) AS on_time,
           avg(rt) AS avg_rt,
           quantile_cont(rt, 0.5) AS avg_p50,
           quantile_cont(rt, 0.9) AS avg_p90
    FROM turns
    WHERE CAST(ts AS DATE) BETWEEN $start AND $end
    GROUP BY agent_id
),
conv_stats AS (
    SELECT agent_id,
           count(*) AS conversations,
           avg(rt) AS first_rt,
           quantile_cont(rt, 0.5) AS first_p50,
           quantile_cont(rt, 0.9) AS first_p90
    FROM turns
    WHERE first_buyer_of_conv AND CAST(conv_ts AS DATE) BETWEEN $start AND $end
    GROUP BY agent_id
),
-- buyer-days: replied when a human line of the agent to the buyer follows
-- the buyer's first line of that day on the same day
buyer_days AS (
    SELECT agent_id,
           count(*) AS received,
           count(*) FILTER (WHERE last_human > first_buyer) AS replied
    FROM (
        SELECT agent_id, buyer_id, day,
               min({{'t': ts, 'o': ord}}) FILTER (WHERE is_buyer) AS first_buyer,
               max({{'t': ts, 'o': ord}}) FILTER (WHERE human) AS last_human
        FROM m WHERE (is_buyer OR human) AND day BETWEEN $start AND $end
        GROUP BY ALL
    )
    WHERE first_buyer IS NOT NULL
    GROUP BY agent_id
),
lines AS (
    SELECT agent_id, count(*) FILTER (WHERE human) AS human_lines,
           count(*) FILTER (WHERE is_buyer) AS buyer_lines
    FROM m WHERE day BETWEEN $start AND $end GROUP BY agent_id
)
SELECT a.agent_id,
       coalesce(b.received, 0) AS received,
       coalesce(b.replied, 0) AS replied,
       b.replied / nullif(b.received, 0) AS reply_rate,
       coalesce(v.conversations, 0) AS conversations,
       v.first_rt AS first_response_s,
       v.first_p50 AS first_response_s_p50,
       v.first_p90 AS first_response_s_p90,
       t.avg_rt AS avg_response_s,
       t.avg_p50 AS avg_response_s_p50,
       t.avg_p90 AS avg_response_s_p90,
       t.on_time / nullif(t.turns, 0) AS response_on_time_rate,
       coalesce(t.turns - t.answered, 0) AS unanswered_turns,
       l.human_lines / nullif(l.buyer_lines, 0) AS answer_question_ratio
FROM ag a
LEFT JOIN buyer_days b USING (agent_id)
LEFT JOIN conv_stats v USING (agent_id)
LEFT JOIN turn_stats t USING (agent_id)
LEFT JOIN lines l USING (agent_id)
ORDER BY a.agent_id
"""


def core_metrics(
    data_dir: Path,
    start: dt.date,
    end: dt.date,
    tz: str = "Asia/Shanghai",
    session_gap_min: float = 30,
    response_target_s: float = 30,
) -> dict[str, dict[str, Any]]:
    """Per agent of agents.parquet, the core service metrics for days start..end."""
    messages = data_dir / "messages.parquet"
    schema = pq.read_schema(messages)
    sent_type = schema.field("sent_at").type
    optional = {
        c: f"m.{c}" if c in schema.names else f"NULL::{t}"
        for c, t in (
            ("shop_id", "VARCHAR"),
            ("auto_reply", "BOOLEAN"),
            ("conversation_id", "VARCHAR"),
        )
    }
    zoned = getattr(sent_type, "tz", None) is not None
    # naive timestamps already are the shop's wall clock; zoned ones are converted
    sent_at = "timezone($tz, m.sent_at)" if zoned else "m.sent_at"
    sql = QUERY.format(
        sent_at=sent_at,
        gap_s=float(session_gap_min) * 60,
        target_s=float(response_target_s),
        **optional,
    )
    params: dict[str, Any] = {
        "agents": str(data_dir / "agents.parquet"),
        "messages": str(messages),
        "start": start,
        "end": end,
    }
    if zoned:
        params["tz"] = tz
    con = duckdb.connect()
    try:
        rel = con.execute(sql, params)
        names = [d[0] for d in rel.description]
        rows = rel.fetchall()
    finally:
        con.close()
    return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in rows}


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    data, start, end = Path(argv[1]), dt.date.fromisoformat(argv[2]), dt.date.fromisoformat(argv[3])
    sys.stdout.write(json.dumps(core_metrics(data, start, end), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
