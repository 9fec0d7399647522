"""The canonical tables of shared/spec/data.md, declared once.

Every reader maps a shop's export onto these columns; everything downstream
(metrics, QA, scoring, the web app) reads only the typed tables described here.

After ingest each table is a ``pyarrow.Table`` with:
- text columns as ``string`` (never null for required text: empty string is
  rejected at validation; optional text is null when empty),
- every timestamp column ``X_at`` as ``timestamp[us]`` holding the UTC instant,
  plus a companion ``X_local`` ``timestamp[us]`` holding the wall-clock time in
  the run's time zone (days and day boundaries are taken from ``X_local``,
  durations and ordering from ``X_at``),
- booleans as ``bool``, money as ``float64``, scores as ``int64``,
- an ``ordinal`` ``int64`` column: the row's position in load order (file by
  file, line by line), used to keep file order for ties in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    TIMESTAMP = "timestamp"
    BOOL = "bool"
    MONEY = "money"
    INT = "int"
    ENUM = "enum"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    """A required column must exist in the file and be non-empty on every row."""
    choices: tuple[str, ...] = ()
    """Allowed canonical values for ``Kind.ENUM``."""
    default: str | None = None
    """Value used when the column is absent or the cell is empty (optional columns)."""
    help: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    """Columns that identify a row; rows sharing a key across files are one row."""
    required_file: bool = False
    help: str = ""
    column_index: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_index", {c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self.column_index[name]

    @property
    def timestamp_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind is Kind.TIMESTAMP)


SENDERS = ("buyer", "agent", "bot", "system")
ROLES = ("presale", "aftersale", "both")
CASE_KINDS = ("refund", "return", "complaint", "dispute")
CASE_OUTCOMES = ("resolved", "buyer_won", "seller_won", "withdrawn")
SESSION_STATUSES = ("online", "busy", "away")

AGENTS = Table(
    "agents",
    (
        Column("agent_id", Kind.TEXT, help="unique agent account (子账号), e.g. 旗舰店:小美"),
        Column("name", Kind.TEXT, required=False, help="display name; defaults to agent_id"),
        Column("shop_id", Kind.TEXT, required=False, default="", help="shop of the account"),
        Column("team", Kind.TEXT, required=False, default="", help="team, e.g. 售前一组"),
        Column("role", Kind.ENUM, choices=ROLES, help="presale | aftersale | both"),
    ),
    key=("agent_id",),
    required_file=True,
)

MESSAGES = Table(
    "messages",
    (
        Column("shop_id", Kind.TEXT, required=False, help="defaults to the agent's shop"),
        Column("agent_id", Kind.TEXT, help="agent account of the thread"),
        Column("buyer_id", Kind.TEXT, help="buyer nickname or id"),
        Column("sender", Kind.ENUM, choices=SENDERS, help="buyer | agent | bot | system"),
        Column("sent_at", Kind.TIMESTAMP),
        Column("content", Kind.TEXT, required=False, default="", help="may be empty"),
        Column("auto_reply", Kind.BOOL, required=False, default="false"),
        Column("conversation_id", Kind.TEXT, required=False, help="derived when absent"),
    ),
    # Messages have no natural key: identical rows inside one file are kept
    # (a buyer may send 在吗 twice in one second); across files they merge as a
    # multiset (see ingest.merge).
    key=(),
    required_file=True,
)

ORDERS = Table(
    "orders",
    (
        Column("order_id", Kind.TEXT),
        Column("shop_id", Kind.TEXT, required=False, help="defaults to the only shop"),
        Column("buyer_id", Kind.TEXT),
        Column("created_at", Kind.TIMESTAMP, help="下单时间"),
        Column("paid_at", Kind.TIMESTAMP, required=False, help="付款时间; empty = never paid"),
        Column("amount", Kind.MONEY, required=False, default="0", help="paid amount, CNY"),
        Column("refund_amount", Kind.MONEY, required=False, default="0"),
        Column("status", Kind.TEXT, required=False, default="", help="informative only"),
    ),
    key=("order_id",),
)

RATINGS = Table(
    "ratings",
    (
        Column("shop_id", Kind.TEXT, required=False, help="defaults to the agent's shop"),
        Column("agent_id", Kind.TEXT),
        Column("buyer_id", Kind.TEXT, required=False, default=""),
        Column("rated_at", Kind.TIMESTAMP),
        Column("score", Kind.INT, help="1..5; 很不满意 1 … 很满意 5"),
        Column("comment", Kind.TEXT, required=False, default=""),
    ),
    key=(),
)

CASES = Table(
    "cases",
    (
        Column("case_id", Kind.TEXT),
        Column("shop_id", Kind.TEXT, required=False, help="defaults to the agent's shop"),
        Column("agent_id", Kind.TEXT, help="handling agent"),
        Column("buyer_id", Kind.TEXT, required=False, default=""),
        Column("order_id", Kind.TEXT, required=False, default=""),
        Column("kind", Kind.ENUM, choices=CASE_KINDS),
        Column("opened_at", Kind.TIMESTAMP),
        Column("closed_at", Kind.TIMESTAMP, required=False, help="empty = still open"),
        Column("platform_intervened", Kind.BOOL, required=False, default="false"),
        Column("outcome", Kind.ENUM, required=False, choices=CASE_OUTCOMES),
    ),
    key=("case_id",),
)

SESSIONS = Table(
    "sessions",
    (
        Column("agent_id", Kind.TEXT),
        Column("started_at", Kind.TIMESTAMP),
        Column("ended_at", Kind.TIMESTAMP),
        Column("status", Kind.ENUM, required=False, default="online", choices=SESSION_STATUSES),
    ),
    key=(),
)

SHIFTS = Table(
    "shifts",
    (
        Column("agent_id", Kind.TEXT),
        Column("day", Kind.TEXT, required=False, help="YYYY-MM-DD; empty = every weekday"),
        Column("weekday", Kind.TEXT, required=False, help="1 Monday … 7 Sunday (when no day)"),
        Column("start", Kind.TEXT, help="shift start HH:MM (wall clock)"),
        Column("end", Kind.TEXT, required=False, default="", help="shift end HH:MM"),
    ),
    key=(),
    help="optional shift table (排班): late starts are judged against it",
)

TABLES: dict[str, Table] = {
    t.name: t for t in (AGENTS, MESSAGES, ORDERS, RATINGS, CASES, SESSIONS, SHIFTS)
}
