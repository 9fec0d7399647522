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

# {sent_at}: the local wall-clock expression; {gap_s}, {target_s}: parameters.
QUERY = """
WITH
ag AS (SELECT agent_id, shop_id AS agent_shop FROM read_parquet($agents)),
m AS (
    SELECT coalesce(nullif(m.shop_id, ''), ag.agent_shop) AS shop_id,
           m.agent_id, m.buyer_id,
           {sent_at} AS ts,
           CAST({sent_at} AS DATE) AS day,
           m.sender = 'buyer' AS is_buyer,
           m.sender = 'agent' AND NOT coalesce(m.auto_reply, false) AS human,
           nullif(m.conversation_id, '') AS cid,
           m.file_row_number AS ord              -- file order breaks ties in sent_at
    FROM read_parquet($messages, file_row_number = true) AS m
    LEFT JOIN ag USING (agent_id)
),
-- conversations: (thread, conversation_id) where given; otherwise a new one
-- after a gap strictly longer than the session gap among rows without an id
gaps AS (
    SELECT *,
           CASE WHEN cid IS NULL AND coalesce(
                    epoch(ts) - epoch(lag(ts) OVER w) <= {gap_s}, false) THEN 0 ELSE 1 END
               AS new_conv
    FROM m
    WINDOW w AS (PARTITION BY shop_id, agent_id, buyer_id, cid IS NULL ORDER BY ts, ord)
),
c AS (
    SELECT *,
           CASE WHEN cid IS NULL THEN sum(new_conv) OVER (
               PARTITION BY shop_id, agent_id, buyer_id, cid IS NULL ORDER BY ts, ord
               ROWS UNBOUNDED PRECEDING) ELSE 0 END AS seg
    FROM gaps
),
convs AS (
    SELECT shop_id, agent_id, buyer_id, cid, seg,
           CAST(min(ts) AS DATE) AS first_day, bool_or(is_buyer) AS has_buyer
    FROM c GROUP BY ALL
),
-- buyer turns: runs of buyer lines among buyer and human-agent lines (bot,
-- system and auto-reply lines do not break a run); numbered per conversation,
-- a human line carries the number of the run it follows and so answers it
hb AS (
    SELECT *, sum(CASE WHEN is_buyer AND NOT coalesce(prev_buyer, false) THEN 1 ELSE 0 END)
                  OVER (PARTITION BY shop_id, agent_id, buyer_id, cid, seg ORDER BY ts, ord
                        ROWS UNBOUNDED PRECEDING) AS turn
    FROM (
        SELECT *, lag(is_buyer) OVER (
                      PARTITION BY shop_id, agent_id, buyer_id, cid, seg ORDER BY ts, ord
                  ) AS prev_buyer
        FROM c WHERE is_buyer OR human
    )
),
turns AS (
    SELECT shop_id, agent_id, buyer_id, cid, seg, turn,
           min(ts) FILTER (WHERE is_buyer) AS started,
           epoch(min(ts) FILTER (WHERE human)) - epoch(min(ts) FILTER (WHERE is_buyer)) AS rt
    FROM hb WHERE turn > 0 GROUP BY ALL
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
    WHERE CAST(started AS DATE) BETWEEN $start AND $end
    GROUP BY agent_id
),
conv_stats AS (
    SELECT v.agent_id,
           count(*) FILTER (WHERE v.has_buyer) AS conversations,
           avg(t.rt) AS first_rt,
           quantile_cont(t.rt, 0.5) AS first_p50,
           quantile_cont(t.rt, 0.9) AS first_p90
    FROM convs v
    LEFT JOIN turns t
      ON t.turn = 1 AND t.shop_id = v.shop_id AND t.agent_id = v.agent_id
     AND t.buyer_id = v.buyer_id AND t.cid IS NOT DISTINCT FROM v.cid AND t.seg = v.seg
    WHERE v.first_day BETWEEN $start AND $end
    GROUP BY v.agent_id
),
-- buyer-days: replied when a human line of the agent to the buyer follows the
-- buyer's first line of that day on the same day
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
    sent_type = pq.read_schema(messages).field("sent_at").type
    zoned = getattr(sent_type, "tz", None) is not None
    # naive timestamps already are the shop's wall clock; zoned ones are converted
    sent_at = "timezone($tz, m.sent_at)" if zoned else "m.sent_at"
    sql = QUERY.format(
        sent_at=sent_at, gap_s=float(session_gap_min) * 60, target_s=float(response_target_s)
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
