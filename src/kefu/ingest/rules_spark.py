"""The typing rules (kefu.ingest.rules) as Spark column expressions.

The same plan as the embedded engine's SQL (kefu.ingest.rules_sql), operation by
operation; the session's time zone is UTC (kefu.metrics.spark.connect_spark), so a
Spark ``timestamp`` holding a naive UTC instant reads like DuckDB's TIMESTAMP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any

from kefu.ingest.rules import ISO_TIMESTAMP, WHITESPACE, Expr, Plan, Source, layers

PROBLEMS_TYPE = "array<struct<column:string,reason:string,value:string>>"
SPARK_TYPES = {"text": "string", "bool": "boolean", "double": "double", "bigint": "bigint",
               "timestamp": "timestamp"}


def _F() -> Any:
    from pyspark.sql import functions

    return functions


def column(name: str) -> Any:
    return _F().col("`" + name.replace("`", "``") + "`")


def literal(value: object, kind: str) -> Any:
    F = _F()
    if value is None:
        return F.lit(None).cast(SPARK_TYPES[kind])
    if kind == "timestamp" and isinstance(value, dt.datetime):
        # text, read in the session's zone (UTC): a Python datetime would be read in the
        # driver's local zone
        return F.lit(value.isoformat(sep=" ")).cast("timestamp")
    return F.lit(value).cast(SPARK_TYPES[kind])


def lookup(key: Any, pairs: Sequence[tuple[str, object]], kind: str) -> Any:
    F = _F()
    if not pairs:
        return literal(None, kind)
    items = [item for k, v in pairs for item in (F.lit(k), literal(v, kind))]
    return F.create_map(*items)[key]


def substr(text: Any, start: Any, length: int) -> Any:
    F = _F()
    return text.substr(start if not isinstance(start, int) else F.lit(start), F.lit(length))


def groups(text: Any, pattern: str, names: Sequence[str]) -> Any:
    F = _F()
    return F.struct(*[F.regexp_extract(text, pattern, i + 1).alias(name)
                      for i, name in enumerate(names)])


def zone_offset_us(instant: Any, zone: str) -> Any:
    F = _F()
    return F.unix_micros(F.from_utc_timestamp(instant, zone)) - F.unix_micros(instant)


def templates() -> dict[str, Callable[..., Any]]:
    F = _F()
    return {
        "not": lambda a: ~a,
        "and": lambda *xs: reduce(lambda a, b: a & b, xs),
        "or": lambda *xs: reduce(lambda a, b: a | b, xs),
        "is_null": lambda a: a.isNull(),
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "ge": lambda a, b: a >= b,
        "gt": lambda a, b: a > b,
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "coalesce": lambda *xs: F.coalesce(*xs),
        "trim": lambda a: F.regexp_replace(a, f"^{WHITESPACE}+|{WHITESPACE}+$", ""),
        "lower": lambda a: F.lower(a),
        "concat": lambda *xs: F.concat(*xs),
        "lpad": lambda a, width: F.lpad(a, width, "0"),
        "length": lambda a: F.length(a),
        "substr": substr,
        "matches": lambda a, pattern: a.rlike(pattern),
        "replace": lambda a, pattern, new: F.regexp_replace(a, pattern, new),
        "groups": groups,
        "field": lambda a, name: a.getField(name),
        "lookup": lookup,
        "to_text": lambda a: a.cast("string"),
        "to_double": lambda a: a.cast("double"),
        "to_bigint": lambda a: a.cast("bigint"),
        "floor": lambda a: F.floor(a),
        "abs": lambda a: F.abs(a),
        "is_nan": lambda a: F.isnan(a),
        "round_even": lambda a: F.bround(a, 0),
        "ts_text": lambda a: a.cast("timestamp"),
        "iso_time": lambda a: F.when(a.rlike(ISO_TIMESTAMP), a.cast("timestamp")),
        "ts_micros": lambda a: F.timestamp_micros(a),
        "micros": lambda a: F.unix_micros(a),
        "wall_clock": lambda a: a.cast("timestamp"),  # timestamp_ntz read as UTC wall clock
        "instant": lambda a: a,
        "zone_offset_us": zone_offset_us,
    }


def compiled(expr: Expr, ops: dict[str, Callable[..., Any]]) -> Any:
    """A Spark column of an expression; raw headers and bindings are columns by name."""
    F = _F()
    if expr.op == "ref":
        return column(str(expr.args[0]))
    if expr.op == "lit":
        return literal(expr.args[0], str(expr.args[1]))
    if expr.op == "case":
        *branches, otherwise = [compiled(a, ops) for a in expr.args]  # type: ignore[arg-type]
        conditions = branches[::2]
        result = F.when(conditions[0], branches[1])
        for condition, value in zip(conditions[1:], branches[3::2], strict=True):
            result = result.when(condition, value)
        return result.otherwise(otherwise)
    # plain values (patterns, names, widths) go to the template as they are
    args = [compiled(a, ops) if isinstance(a, Expr) else a for a in expr.args]
    return ops[expr.op](*args)


def with_bindings(frame: Any, plan: Plan) -> Any:
    """The frame with every binding of the plan as a column (layer by layer)."""
    ops = templates()
    for group in layers(plan.bindings):
        frame = frame.select("*", *[compiled(e, ops).alias(n) for n, e in group])
    return frame


def source_kind(spark_type: str) -> Source:
    kind = spark_type.lower()
    if kind.startswith(("array", "struct", "map")):
        return Source.NESTED
    simple = {"string": Source.TEXT, "boolean": Source.BOOL, "float": Source.FLOAT,
              "double": Source.FLOAT, "timestamp": Source.TIMESTAMP_TZ,
              "timestamp_ntz": Source.TIMESTAMP, "date": Source.DATE}
    if kind in simple:
        return simple[kind]
    if kind in ("tinyint", "smallint", "int", "bigint"):
        return Source.INTEGER
    if kind.startswith("decimal"):
        return Source.DECIMAL
    return Source.OTHER


def outputs(plan: Plan) -> list[Any]:
    ops = templates()
    return [compiled(e, ops).cast(SPARK_TYPES[kind]).alias(name)
            for name, (e, kind) in plan.outputs.items()]


def problems(plan: Plan) -> Any:
    """The failed checks of a row as an array of (column, reason, value) structs."""
    F = _F()
    ops = templates()
    failed = []
    for check in plan.checks:
        cell = plan.cells.get(check.column)
        value = compiled(cell, ops) if cell is not None else F.lit("")
        failed.append(F.when(F.coalesce(compiled(check.bad, ops), F.lit(False)), F.struct(
            F.lit(check.column).alias("column"), F.lit(check.reason).alias("reason"),
            value.alias("value"))))
    if not failed:
        return F.array().cast(PROBLEMS_TYPE)
    return F.filter(F.array(*failed), lambda p: p.isNotNull())
