"""The typing and validation rules of every column kind, declared once.

How a raw cell becomes a canonical value, and which cells are errors with which
reason (docs/data.md, "Values" and "Validation"), is written here as expressions
of a small vocabulary (``Expr``: a few dozen operations such as ``trim``,
``matches``, ``lookup``, ``case``). Two compilers turn the same expressions into
an engine's language: DuckDB SQL (``kefu.ingest.rules_sql``, the embedded engine,
every file format) and Spark column expressions (``kefu.ingest.rules_spark``, the
cluster). An operation means the same on both; a rule exists once, so the engines
cannot drift (tests/ingest/test_rules_parity.py runs the same files through both).

``plan_file`` gives the plan of one file: the canonical columns as expressions
over its raw columns, and the checks (column, bad-row condition, reason) in the
order they are reported.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

from kefu.ingest.profile import MappingProfile, bool_mapping, value_mapping
from kefu.ingest.schema import Column, Kind, Table

# --- the vocabulary ------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """One operation over its arguments (expressions or plain values); see OPERATIONS."""

    op: str
    args: tuple[object, ...] = ()

    def __post_init__(self) -> None:
        if self.op not in OPERATIONS:
            raise ValueError(f"unknown operation {self.op!r}")


OPERATIONS = {
    # name: meaning (every compiler implements each, with this meaning; null in → null out
    # unless said otherwise)
    "ref": "a raw column (by header) or an earlier binding (by name)",
    "lit": "a constant (value, type); type is one of TYPES",
    "not": "logical not", "and": "logical and (any number)", "or": "logical or (any number)",
    "is_null": "true when null (never null)",
    "eq": "=", "ne": "<>", "lt": "<", "le": "<=", "ge": ">=", "gt": ">",
    "add": "+", "sub": "-", "mul": "*",
    "case": "cond1, value1, cond2, value2, …, else: the value of the first true condition",
    "coalesce": "the first non-null argument",
    "trim": "text without WHITESPACE at either end",
    "lower": "Unicode lower case",
    "concat": "text joined (null if any is null)",
    "lpad": "(text, width): left-padded with '0' to width",
    "length": "number of characters",
    "substr": "(text, start from 1, length)",
    "matches": "(text, pattern): the RE2/Java-compatible pattern matches somewhere",
    "replace": "(text, pattern, replacement): every match replaced",
    "groups": "(text, pattern, names): the pattern's groups as a struct ('' when no match)",
    "field": "(struct, name): one field",
    "lookup": "(text, pairs, type): the value paired with the text, null when none",
    "to_text": "any scalar as text (numbers in decimal notation, booleans true/false)",
    "to_double": "text or number as a double, null when not a number ('1e309' is infinity)",
    "to_bigint": "text or number as a 64-bit integer, null when not an integer",
    "floor": "round down", "abs": "absolute value", "is_nan": "true when NaN",
    "round_even": "round to a whole number, halves to even",
    "ts_text": "text 'YYYY-MM-DD[ T]HH:MM:SS[.ffffff]' (hours < 24) as a timestamp, null "
               "when no such day",
    "iso_time": "text in ISO_TIMESTAMP form as its timestamp (ts_text), else null; an "
                "engine may also read here other TIMESTAMP_PARTS forms without offset, "
                "giving the value parts_local gives them (a fast path, never another "
                "result)",
    "ts_micros": "a timestamp from microseconds since 1970-01-01",
    "micros": "a timestamp as microseconds since 1970-01-01",
    "wall_clock": "a naive timestamp column of the file (any unit) as a timestamp[us]",
    "instant": "a zoned timestamp column of the file as its UTC instant, naive",
    "zone_offset_us": "(utc instant, zone): the zone's UTC offset at that instant, in µs",
}

TYPES = ("text", "bool", "double", "bigint", "timestamp")


def ref(name: str) -> Expr:
    return Expr("ref", (name,))


def lit(value: object, kind: str) -> Expr:
    return Expr("lit", (value, kind))


def fn(op: str, *args: object) -> Expr:
    return Expr(op, args)


def not_(x: Expr) -> Expr:
    return fn("not", x)


def and_(*xs: Expr) -> Expr:
    return fn("and", *xs)


def or_(*xs: Expr) -> Expr:
    return fn("or", *xs)


def case(*branches: Expr) -> Expr:
    return fn("case", *branches)


def text(value: str) -> Expr:
    return lit(value, "text")


def number(value: int) -> Expr:
    return lit(value, "bigint")


NULL_TEXT = lit(None, "text")
NULL_TIMESTAMP = lit(None, "timestamp")

# --- patterns and limits (the same text in RE2 and Java regular expressions) ------------

WHITESPACE = (r"[\t\n\x0B\f\r\x1C-\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}"
              r"\x{202F}\x{205F}\x{3000}]")
"""What ids and codes are trimmed of: Unicode white space (Python's str.isspace)."""
SPACE = r"[\t\n\f\r ]"
"""ASCII spaces inside a value (between a time and its offset, around ¥)."""

# 2024-06-01 09:30[:00][.250][+08:00|Z]; also 2024/6/1 9:05 and 2024年6月1日 10:00.
TIMESTAMP_PARTS = (
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})(?:日" + SPACE + r"*|[ T]+)"
    r"(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(\.\d{1,9})?" + SPACE + r"*([Zz]|[+-]\d{2}:?\d{2})?$"
)
PART_NAMES = ("y", "mo", "d", "h", "mi", "s", "f", "z")
# The usual form, read by one cast: 2024-06-01 09:30:00[.250] (T allowed), no offset.
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?$"
DATE_ONLY = r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?$"
NUMERIC_TS = r"^\d+(\.\d+)?$"
# Excel serial days (1900 date system) of 2000-01-01 and 2100-01-01, and its epoch.
EXCEL_SERIAL_RANGE = (36526, 73051)
EXCEL_EPOCH_US = -2209161600 * 1_000_000  # 1899-12-30 00:00 as µs since 1970
EPOCH_SECONDS_RANGE = (946_684_800, 4_102_444_800)  # 2000-01-01 … 2100-01-01 UTC
EPOCH_MILLIS_RANGE = (946_684_800_000, 4_102_444_800_000)
# Timestamps outside these years are refused (a typo, 9999-12-31 placeholders …).
FIRST_YEAR, LAST_YEAR = 2000, 2099

# Money: digits with an optional decimal point; a comma only as a thousands separator
# between groups of exactly three digits (1,299.00); an exponent only without commas.
MONEY = (
    r"^-?((\d{1,3}([,，]\d{3})+|\d+)(\.\d*)?|\.\d+)$"
    r"|^-?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+$"
)
MONEY_NOISE = r"[¥￥" + SPACE[1:-1] + r"元]|^CNY|^RMB"
PLAIN_AMOUNT = r"^\d+(\.\d+)?$"
"""An amount as most exports write it (a MONEY form with nothing to clean)."""
DECIMAL_COMMA = r"^-?\d[\d.]*[,，]\d{1,2}$|^-?\d[\d,，]*[,，]\d{1,2}$|^-?\d{1,3}(\.\d{3})+,\d+$"
MAX_AMOUNT = 1e9
"""Larger amounts (one order, one refund) are refused as out of range (CNY)."""

# Free text keeps its spaces; ids and codes are trimmed (exports pad them).
UNTRIMMED_TEXT = {"content", "comment"}
# Columns whose emptiness is checked later, against agents (see load.cross_check).
DEFAULTED_LATER = {"shop_id"}
TIME_ORDER = {"cases": ("opened_at", "closed_at"), "sessions": ("started_at", "ended_at")}

OUTPUT_TYPES = {Kind.TEXT: "text", Kind.ENUM: "text", Kind.BOOL: "bool", Kind.MONEY: "double",
                Kind.INT: "bigint", Kind.TIMESTAMP: "timestamp"}


class Source(Enum):
    """What a file's column holds, as far as typing cares (each engine classifies its types)."""

    TEXT = "text"
    BOOL = "bool"
    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    TIMESTAMP = "timestamp"
    """naive: wall-clock time in the shop's zone"""
    TIMESTAMP_TZ = "timestamp with zone"
    DATE = "date"
    OTHER = "other scalar"
    NESTED = "nested"
    """lists, structs, maps: no single value; refused"""


NUMBERS = (Source.INTEGER, Source.FLOAT, Source.DECIMAL)

# --- the plan of one file ---------------------------------------------------------


@dataclass(frozen=True)
class Check:
    column: str
    """The canonical column named in the report."""
    bad: Expr
    reason: str


@dataclass
class Plan:
    """Canonical columns of one file as expressions over its raw columns, and the checks."""

    bindings: list[tuple[str, Expr]] = field(default_factory=list)
    """Intermediate values, in order; each may refer to raw columns and earlier bindings."""
    outputs: dict[str, tuple[Expr, str]] = field(default_factory=dict)
    """Canonical column → (expression, output type)."""
    checks: list[Check] = field(default_factory=list)
    cells: dict[str, Expr] = field(default_factory=dict)
    """Canonical column → the raw cell as text, for error reports."""

    def bind(self, name: str, value: Expr) -> Expr:
        name = f"__{name}"
        if any(bound == name for bound, _ in self.bindings):
            raise ValueError(f"binding {name} twice")
        self.bindings.append((name, value))
        return ref(name)


def layers(bindings: Sequence[tuple[str, Expr]]) -> list[list[tuple[str, Expr]]]:
    """Bindings grouped so each refers only to raw columns and to earlier groups."""
    depth: dict[str, int] = {}

    def refs(expr: object) -> Iterator[str]:
        if isinstance(expr, Expr):
            if expr.op == "ref":
                yield str(expr.args[0])
            for arg in expr.args:
                yield from refs(arg)

    grouped: list[list[tuple[str, Expr]]] = []
    for name, expr in bindings:
        level = max((depth[r] + 1 for r in refs(expr) if r in depth), default=0)
        depth[name] = level
        while len(grouped) <= level:
            grouped.append([])
        grouped[level].append((name, expr))
    return grouped


class Unreadable(ValueError):
    """A column whose type holds no single value (a list, a struct)."""

    def __init__(self, column: Column, type_name: str) -> None:
        self.column = column.name
        super().__init__(f"a column of type {type_name} cannot be read as {column.kind.value} "
                         "(lists, structs and maps hold no single value)")


def plan_file(
    table: Table,
    headers: Mapping[str, str],
    sources: Mapping[str, tuple[Source, str]],
    tz: str,
    profile: MappingProfile,
) -> Plan:
    """The plan of a file whose canonical columns come from ``headers`` (column → header)
    of the kinds ``sources`` (header → (Source, the engine's type name))."""
    plan = Plan()
    typed: dict[str, Expr] = {}
    for index, column in enumerate(table.columns):
        header = headers.get(column.name)
        if header is None:
            # An optional column the file does not have: its default on every row.
            typed[column.name] = default_value(column)
            continue
        source, type_name = sources[header]
        if source is Source.NESTED:
            raise Unreadable(column, type_name)
        cell = ref(header)
        typed[column.name] = column_rule(plan, f"{index}", column, table, source, cell, tz,
                                         profile)
        plan.cells[column.name] = as_text(cell, source)
    if table.name in TIME_ORDER:
        first, second = TIME_ORDER[table.name]
        plan.checks.append(Check(second, fn("lt", typed[second], typed[first]),
                                 f"{second} before {first}"))
    if table.name == "agents":
        # name defaults to the account itself.
        typed["name"] = fn("coalesce", typed["name"], typed["agent_id"])
    for column in table.columns:
        plan.outputs[column.name] = (typed[column.name], OUTPUT_TYPES[column.kind])
    return plan


def column_rule(
    plan: Plan, key: str, column: Column, table: Table, source: Source, cell: Expr, tz: str,
    profile: MappingProfile,
) -> Expr:
    """The typed value of one mapped column (its default where empty); adds its checks."""
    name = column.name
    untrimmed = source is Source.TEXT and name in UNTRIMMED_TEXT
    cleaned = plan.bind(f"text{key}", cell if untrimmed else fn("trim", as_text(cell, source)))
    empty = plan.bind(f"empty{key}", is_empty(cleaned if source is Source.TEXT else cell,
                                              source))
    if column.required and name not in DEFAULTED_LATER:
        reason = "required value is empty"
        if table.name == "messages" and name == "agent_id":
            reason = "every message needs agent_id (it names the thread)"
        plan.checks.append(Check(name, empty, reason))
    if column.kind is Kind.TEXT:
        value = cleaned
    elif column.kind is Kind.TIMESTAMP:
        value = timestamp_rule(plan, key, name, source, cell, cleaned, empty, tz)
    elif column.kind is Kind.MONEY:
        value = money_rule(plan, key, name, source, cell, cleaned, empty)
    elif column.kind is Kind.BOOL and source is Source.BOOL:
        value = cell
    else:
        value = plan.bind(f"value{key}", lookup_rule(column, table, cleaned, profile))
        plan.checks.append(Check(name, and_(not_(empty), fn("is_null", value)),
                                 lookup_reason(column)))
    # Empty optional cells take the column default, or null (empty text is null too).
    return plan.bind(f"typed{key}", case(empty, default_value(column), value))


def as_text(cell: Expr, source: Source) -> Expr:
    """A raw cell as text; whole floats lose '.0' (spreadsheets store ids as floats:
    123456789012.0 is the id 123456789012), NaN is null."""
    if source is Source.TEXT:
        return cell
    if source is Source.FLOAT:
        whole = and_(fn("eq", fn("floor", cell), cell), fn("lt", fn("abs", cell), lit(2.0**62,
                                                                                     "double")))
        return case(fn("is_nan", cell), NULL_TEXT,
                    whole, fn("to_text", fn("to_bigint", cell)),
                    fn("to_text", cell))
    if source is Source.TIMESTAMP_TZ:
        return fn("to_text", fn("instant", cell))
    return fn("to_text", cell)


def is_empty(value: Expr, source: Source) -> Expr:
    """Null, NaN or empty text (text is trimmed before, except content and comment)."""
    if source is Source.TEXT:
        return or_(fn("is_null", value), fn("eq", value, text("")))
    if source is Source.FLOAT:
        return or_(fn("is_null", value), fn("coalesce", fn("is_nan", value), lit(False, "bool")))
    return fn("is_null", value)


def default_value(column: Column) -> Expr:
    kind = OUTPUT_TYPES[column.kind]
    if column.default is None:
        return lit(None, kind)
    if column.kind is Kind.BOOL:
        return lit(column.default == "true", kind)
    if column.kind is Kind.MONEY:
        return lit(float(column.default), kind)
    return lit(column.default, kind)


def lookup_rule(column: Column, table: Table, cleaned: Expr, profile: MappingProfile) -> Expr:
    """Enums, booleans and scores: the lower-cased text translated by the built-in and the
    profile's mappings (a profile may map to any text; only allowed values count)."""
    name = column.name
    key = fn("lower", cleaned)
    if column.kind is Kind.BOOL:
        pairs: tuple[tuple[str, object], ...] = tuple(
            bool_mapping(table.name, name, profile).items())
        return fn("lookup", key, pairs, "bool")
    if column.kind is Kind.INT:
        pairs = tuple((raw, int(value)) for raw, value
                      in value_mapping(table.name, name, profile).items()
                      if value in {"1", "2", "3", "4", "5"})
        return fn("lookup", key, pairs, "bigint")
    choices = {raw: canonical for raw, canonical in value_mapping(table.name, name, profile).items()
               if canonical in column.choices}
    choices.update({choice: choice for choice in column.choices})
    return fn("lookup", key, tuple(choices.items()), "text")


def lookup_reason(column: Column) -> str:
    if column.kind is Kind.BOOL:
        return "not a boolean (true/false, 1/0, yes/no, 是/否)"
    if column.kind is Kind.INT:
        return "score must be 1..5"
    return f"unknown {column.name}; expected one of {', '.join(column.choices)}"


# --- money -----------------------------------------------------------------------


def money_rule(plan: Plan, key: str, name: str, source: Source, cell: Expr, cleaned: Expr,
               empty: Expr) -> Expr:
    """Amounts (see MONEY); numbers in the file are taken as they are."""
    if source in (Source.INTEGER, Source.FLOAT):
        value = plan.bind(f"value{key}", fn("to_double", cell))
    else:
        bare = fn("replace", cleaned, MONEY_NOISE, "")
        value = plan.bind(f"value{key}", case(
            # the usual 1299.00 needs neither cleaning nor the full pattern
            fn("matches", cleaned, PLAIN_AMOUNT), fn("to_double", cleaned),
            fn("matches", bare, MONEY), fn("to_double", fn("replace", bare, "[,，]", "")),
            lit(None, "double")))
        unread = plan.bind(f"unread{key}", and_(not_(empty), fn("is_null", value)))
        comma = plan.bind(f"comma{key}", case(unread, fn("matches", cleaned, DECIMAL_COMMA),
                                              lit(False, "bool"))
                          if source is Source.TEXT else lit(False, "bool"))
        plan.checks.append(Check(name, comma, (
            "a decimal comma? kefu reads ',' only as a thousands separator between groups "
            "of three digits; write the amount with a decimal point (299.00)")))
        plan.checks.append(Check(name, and_(unread, not_(comma)), "not an amount"))
    plan.checks.append(Check(name, and_(
        not_(fn("is_null", value)), not_(fn("is_nan", value)),
        not_(fn("le", fn("abs", value), lit(MAX_AMOUNT, "double")))),
        f"amount out of range (above {MAX_AMOUNT:,.0f} or infinite)"))
    plan.checks.append(Check(name, fn("lt", value, lit(0.0, "double")), "negative amount"))
    return value


# --- timestamps ------------------------------------------------------------------


def timestamp_rule(plan: Plan, key: str, name: str, source: Source, cell: Expr, cleaned: Expr,
                   empty: Expr, tz: str) -> Expr:
    """The UTC instant (naive) of a time cell; naive input is wall-clock time in tz."""
    if source is Source.TIMESTAMP:
        value = plan.bind(f"value{key}", local_to_utc(plan, key, fn("wall_clock", cell), tz))
    elif source is Source.TIMESTAMP_TZ:
        value = plan.bind(f"value{key}", fn("instant", cell))
    else:
        if source in NUMBERS:
            value = plan.bind(f"value{key}", number_instant(plan, key, fn("to_double", cell), tz))
        else:
            value = plan.bind(f"value{key}", text_instant(plan, key, cleaned, tz))
        unread = plan.bind(f"unread{key}", and_(not_(empty), fn("is_null", value)))
        # a case, not an and: the pattern is tried on unread cells only
        date_only = plan.bind(f"dateonly{key}", case(unread, fn("matches", cleaned, DATE_ONLY),
                                                     lit(False, "bool")))
        plan.checks.append(Check(name, date_only,
                                 "a date without a time of day (a timestamp needs at least HH:MM)"))
        plan.checks.append(Check(name, and_(unread, not_(date_only)),
                                 "not a valid timestamp (expected YYYY-MM-DD HH:MM[:SS][.fff]"
                                 "[+08:00])"))
    low = lit(dt.datetime(FIRST_YEAR, 1, 1), "timestamp")
    high = lit(dt.datetime(LAST_YEAR + 1, 1, 1), "timestamp")
    plan.checks.append(Check(name, or_(fn("lt", value, low), fn("ge", value, high)),
                             f"timestamp out of range (years {FIRST_YEAR}–{LAST_YEAR})"))
    return value


def text_instant(plan: Plan, key: str, cleaned: Expr, tz: str) -> Expr:
    """A time written as text: the usual ISO form first (ISO_TIMESTAMP: one cast), then
    the forms of TIMESTAMP_PARTS, then numbers (``number_instant``)."""
    fast = plan.bind(f"iso{key}", fn("iso_time", cleaned))
    # only cells not in the ISO form go through the slower patterns
    rest = plan.bind(f"rest{key}", case(fn("is_null", fast), cleaned, NULL_TEXT))
    parts = plan.bind(f"parts{key}", fn("groups", rest, TIMESTAMP_PARTS, PART_NAMES))
    local, offset_us = parts_local(plan, key, parts)
    wall = plan.bind(f"clock{key}", fn("coalesce", fast, local))
    written = case(fn("matches", rest, NUMERIC_TS), fn("to_double", rest), lit(None, "double"))
    zone = fn("field", parts, "z")
    return case(fn("is_null", wall), number_instant(plan, key, written, tz),
                fn("gt", fn("length", zone), number(0)), ts_add(wall, fn("mul", offset_us,
                                                                        number(-1))),
                local_to_utc(plan, key, wall, tz))


def parts_local(plan: Plan, key: str, parts: Expr) -> tuple[Expr, Expr]:
    """The wall-clock time of a matched TIMESTAMP_PARTS (null unless every field is in
    range: hours < 24, at most microseconds, an offset under 24 h, the day existing) and
    its offset in µs (0 for Z or none)."""

    def part(name: str) -> Expr:
        return fn("field", parts, name)

    def two(name: str, default: str = "") -> Expr:
        raw = part(name)
        if default:
            raw = case(fn("eq", raw, text("")), text(default), raw)
        return fn("lpad", raw, 2)

    zone = part("z")
    zone_hours = fn("to_bigint", fn("substr", zone, 2, 2))
    zone_minutes = fn("to_bigint", fn("substr", zone, fn("sub", fn("length", zone), number(1)),
                                      2))
    in_range = and_(
        fn("lt", fn("to_bigint", part("h")), number(24)),
        fn("lt", fn("to_bigint", part("mi")), number(60)),
        fn("lt", fn("coalesce", fn("to_bigint", part("s")), number(0)), number(60)),
        fn("le", fn("length", part("f")), number(7)),
        or_(fn("le", fn("length", zone), number(1)),
            and_(fn("lt", zone_hours, number(24)), fn("lt", zone_minutes, number(60)))),
    )
    written = fn("concat", part("y"), text("-"), two("mo"), text("-"), two("d"), text(" "),
                 two("h"), text(":"), two("mi"), text(":"), two("s", "00"), part("f"))
    local = plan.bind(f"local{key}", case(in_range, fn("ts_text", written), NULL_TIMESTAMP))
    sign = case(fn("eq", fn("substr", zone, 1, 1), text("-")), number(-1), number(1))
    offset_us = case(fn("le", fn("length", zone), number(1)), number(0), fn(
        "mul", sign, fn("mul", fn("add", fn("mul", zone_hours, number(60)), zone_minutes),
                        number(60_000_000))))
    return local, offset_us


def number_instant(plan: Plan, key: str, value: Expr, tz: str) -> Expr:
    """Numbers in a time column, told apart by size: Excel serial days (shop time, rounded
    to the millisecond: Excel stores 10:00 as 45444.41666666666), epoch seconds or
    milliseconds (instants); any other number is not a time."""
    number_ = plan.bind(f"number{key}", value)

    def between(low: float, high: float) -> Expr:
        return and_(fn("ge", number_, lit(float(low), "double")),
                    fn("lt", number_, lit(float(high), "double")))

    def micros(scale: float, offset: int = 0, unit: int = 1) -> Expr:
        whole = fn("to_bigint", fn("round_even", fn("mul", number_, lit(scale, "double"))))
        return fn("add", number(offset), fn("mul", whole, number(unit)))

    is_serial = between(*EXCEL_SERIAL_RANGE)
    # only serial days are scaled (other numbers would overflow 64 bits)
    serial = case(is_serial, fn("ts_micros", micros(86_400_000.0, EXCEL_EPOCH_US, 1000)),
                  NULL_TIMESTAMP)
    return case(is_serial, local_to_utc(plan, f"serial{key}", serial, tz),
                between(*EPOCH_SECONDS_RANGE), fn("ts_micros", micros(1_000_000.0)),
                between(*EPOCH_MILLIS_RANGE), fn("ts_micros", micros(1000.0)),
                NULL_TIMESTAMP)


def ts_add(value: Expr, micros: Expr) -> Expr:
    return fn("ts_micros", fn("add", fn("micros", value), micros))


DAY_US = 86_400_000_000


def local_to_utc(plan: Plan, key: str, local: Expr, tz: str) -> Expr:
    """Wall-clock time in tz → the UTC instant.

    A zone with one offset over the years kefu accepts (Asia/Shanghai, UTC) is one
    subtraction. Otherwise the offsets two days before and after are compared; where
    they differ (a clock change nearby) the time is read with the offset in force
    before the change, unless only the offset after it gives back the same wall clock.
    So a time repeated by a change (01:30 when clocks go back) is its earlier instant,
    and a time skipped by one (02:30 when clocks go forward) is read with the offset
    before the change.
    """
    fixed = fixed_offset_us(tz)
    if fixed is not None:
        return ts_add(local, number(-fixed))
    wall = plan.bind(f"wall{key}", local)
    # the probes are bound, so each offset is looked up from a column
    probes = [plan.bind(f"{side}probe{key}", ts_add(wall, number(sign * 2 * DAY_US)))
              for side, sign in (("early", -1), ("late", 1))]
    before = plan.bind(f"before{key}", fn("zone_offset_us", probes[0], tz))
    after = plan.bind(f"after{key}", fn("zone_offset_us", probes[1], tz))
    early = ts_add(wall, fn("mul", before, number(-1)))
    late = ts_add(wall, fn("mul", after, number(-1)))

    def wall_clock_of(instant: Expr) -> Expr:
        return ts_add(instant, fn("zone_offset_us", instant, tz))

    return case(fn("eq", before, after), early,
                and_(fn("ne", wall_clock_of(early), wall), fn("eq", wall_clock_of(late), wall)),
                late,
                early)


@functools.lru_cache(maxsize=64)
def fixed_offset_us(tz: str) -> int | None:
    """tz's UTC offset in µs when it is one offset at every week from before FIRST_YEAR
    to after LAST_YEAR (no zone changes its clock and back within a week: summer times
    and Ramadan suspensions last months), else None."""
    zone = ZoneInfo(tz)
    start = dt.datetime(FIRST_YEAR - 1, 12, 25, tzinfo=dt.UTC)
    offset = start.astimezone(zone).utcoffset()
    weeks = (dt.datetime(LAST_YEAR + 1, 1, 8, tzinfo=dt.UTC) - start).days // 7
    for week in range(1, weeks + 1):
        if (start + dt.timedelta(weeks=week)).astimezone(zone).utcoffset() != offset:
            return None
    return None if offset is None else offset // dt.timedelta(microseconds=1)
