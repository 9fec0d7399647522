"""Schemes (考核方案): pydantic models over YAML, validated with clear messages.

A scheme says who it applies to, which items (metrics or manual scores) are
scored and how, their weights (direct or AHP, one or two levels), scenarios
(date ranges with their own weights/targets), triggers, grades, pay and
small-sample handling. docs/schemes.md describes the file format.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kefu.metrics.params import MetricParams
from kefu.metrics.registry import BY_KEY, Direction
from kefu.metrics.registry import count_metric as registry_count_metric
from kefu.scoring.ahp import CR_LIMIT, AHPError, ahp, parse_cell

WEIGHT_TOL = 1e-6
TEMPLATES_DIR = Path(__file__).parent / "templates"

# Counts that bonus rules may use besides registry metrics, computed by kefu.scoring.
EXTRA_COUNTS: dict[str, str] = {
    "disputes_won": "cases with outcome seller_won that were disputes "
    "(kind dispute or platform_intervened), opened in the period",
}


class SchemeError(ValueError):
    """A scheme file that cannot be used; the message names the place and the fix."""


class _Model(BaseModel):
    # Unknown keys are typos in a hand-edited file: refuse them rather than ignore them.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rule(StrEnum):
    linear = "linear"
    steps = "steps"
    manual = "manual"


class Missing(StrEnum):
    rescale = "rescale"  # leave the item out, rescale the others' weights
    zero = "zero"  # score the unavailable item as 0 points


class Shrink(StrEnum):
    none = "none"
    show = "show"  # compute and show the shrunk value, score the raw one
    score = "score"  # score the shrunk value


class Step(_Model):
    at: float
    points: float = Field(ge=0, le=100)


def _metric_error(key: str) -> str:
    close = difflib.get_close_matches(key, BY_KEY, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown metric {key!r}{hint}"


def _direction(key: str) -> Direction:
    return BY_KEY[key].direction


class Item(_Model):
    """One scored item: a metric of the registry, or a manual score (执行力 …)."""

    key: str
    rule: Rule = Rule.linear
    weight: float | None = Field(None, ge=0, le=1)
    floor: float | None = None
    target: float | None = None
    steps: list[Step] | None = None
    below: float = Field(0, ge=0, le=100, description="points when no step is reached")
    compare: Literal[">=", "<="] | None = None
    min_count: int | None = Field(None, ge=1)
    count_metric: str | None = None
    shrink: Shrink = Shrink.none
    missing: Missing | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Item:
        if self.rule is Rule.manual:
            if self.key in BY_KEY:
                raise ValueError(
                    f"item {self.key!r}: a manual item needs its own name, not a metric key"
                )
            if self.min_count or self.shrink is not Shrink.none:
                raise ValueError(f"item {self.key!r}: min_count/shrink apply to metrics only")
            return self
        if self.key not in BY_KEY:
            raise ValueError(_metric_error(self.key))
        if BY_KEY[self.key].shop_only:
            raise ValueError(f"item {self.key}: a value of the shop alone, it cannot score "
                             "an agent")
        direction = _direction(self.key)
        if self.rule is Rule.linear:
            if self.floor is None or self.target is None:
                raise ValueError(f"item {self.key}: rule linear needs floor and target")
            if direction is Direction.NONE:
                raise ValueError(
                    f"item {self.key}: metric has no direction; use rule steps with compare"
                )
            if direction is Direction.UP and not self.floor < self.target:
                raise ValueError(
                    f"item {self.key}: higher is better (↑), so floor must be below target "
                    f"(floor {self.floor:g}, target {self.target:g})"
                )
            if direction is Direction.DOWN and not self.floor > self.target:
                raise ValueError(
                    f"item {self.key}: lower is better (↓), so floor must be above target "
                    f"(floor {self.floor:g}, target {self.target:g})"
                )
        if self.rule is Rule.steps:
            if not self.steps:
                raise ValueError(f"item {self.key}: rule steps needs a list of steps")
            if direction is Direction.NONE and self.compare is None:
                raise ValueError(
                    f"item {self.key}: metric has no direction; say compare: '>=' or '<='"
                )
            ats = [s.at for s in self.steps]
            if len(set(ats)) != len(ats):
                raise ValueError(f"item {self.key}: two steps share the same threshold")
        if self.shrink is not Shrink.none and BY_KEY[self.key].unit != "ratio":
            raise ValueError(f"item {self.key}: shrinkage applies to rates (ratios) only")
        if (self.min_count or self.shrink is not Shrink.none) and self.count_of is None:
            raise ValueError(
                f"item {self.key}: min_count/shrink need count_metric (the metric counting "
                "the events the rate is computed over)"
            )
        if self.count_metric is not None and self.count_metric not in BY_KEY:
            raise ValueError(f"item {self.key}: count_metric: {_metric_error(self.count_metric)}")
        return self

    @property
    def count_of(self) -> str | None:
        """The metric counting the events behind this item's value."""
        return self.count_metric or registry_count_metric(self.key)

    @property
    def compare_op(self) -> str:
        if self.compare is not None:
            return self.compare
        return "<=" if _direction(self.key) is Direction.DOWN else ">="

    @property
    def display_label(self) -> str:
        if self.label:
            return self.label
        return BY_KEY[self.key].label_zh if self.key in BY_KEY else self.key


Matrix = list[list[float | int | str]]


def _ahp_weights(matrix: Matrix, names: list[str], where: str) -> list[float]:
    """Weights from an AHP matrix in a scheme; refuses CR ≥ 0.10 naming the worst pair."""
    try:
        values = [[parse_cell(str(c)) for c in row] for row in matrix]
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"{where}: AHP matrix has a cell that is not a number ({exc})") from None
    if len(values) != len(names):
        raise ValueError(
            f"{where}: AHP matrix has {len(values)} rows for {len(names)} elements ({names})"
        )
    try:
        result = ahp(values, names)
    except AHPError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if result.cr >= CR_LIMIT:
        raise ValueError(f"{where}: {result.inconsistency_message()}")
    return list(result.weights)


def _resolve_weights(
    children: list[Any], names: list[str], matrix: Matrix | None, where: str
) -> list[float]:
    if matrix is not None:
        given = [n for n, c in zip(names, children, strict=True) if c.weight is not None]
        if given:
            raise ValueError(f"{where}: give weights or an AHP matrix, not both ({given})")
        return _ahp_weights(matrix, names, where)
    missing = [n for n, c in zip(names, children, strict=True) if c.weight is None]
    if missing:
        raise ValueError(f"{where}: no weight for {missing} (or give an AHP matrix)")
    total = sum(c.weight for c in children)
    if abs(total - 1) > WEIGHT_TOL:
        parts = " + ".join(f"{n} {c.weight:g}" for n, c in zip(names, children, strict=True))
        raise ValueError(f"{where}: weights sum to {total:.6g}, not 1 ({parts})")
    return [float(c.weight) for c in children]


class Group(_Model):
    name: str
    weight: float | None = Field(None, ge=0, le=1)
    ahp: Matrix | None = None
    items: list[Item]


class AppliesTo(_Model):
    roles: list[Literal["presale", "aftersale", "both"]] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)


class ItemOverride(_Model):
    weight: float | None = Field(None, ge=0, le=1)
    floor: float | None = None
    target: float | None = None
    steps: list[Step] | None = None
    below: float | None = Field(None, ge=0, le=100)


class Scenario(_Model):
    """A named date range with its own weights/targets: MM-DD (every year) or YYYY-MM-DD."""

    name: str
    start: str
    end: str
    groups: dict[str, float] = Field(default_factory=dict, description="group → new weight")
    items: dict[str, ItemOverride] = Field(default_factory=dict)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> str:
        # YAML reads 2024-06-01 as a date; keep one representation.
        return v.isoformat() if isinstance(v, dt.date) else str(v)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        a, b = _parse_md(self.start, self.name), _parse_md(self.end, self.name)
        if (a[0] is None) != (b[0] is None):
            raise ValueError(f"scenario {self.name}: start and end must both be MM-DD or dates")
        if a[0] is None:
            if (a[1], a[2]) > (b[1], b[2]):
                raise ValueError(
                    f"scenario {self.name}: start {self.start} is after end {self.end} "
                    "(ranges crossing new year: write two scenarios)"
                )
        elif self.start_date(0) > self.end_date(0):
            raise ValueError(f"scenario {self.name}: start {self.start} is after end {self.end}")
        return self

    @property
    def recurring(self) -> bool:
        return _parse_md(self.start, self.name)[0] is None

    def start_date(self, year: int) -> dt.date:
        return _to_date(self.start, year, self.name)

    def end_date(self, year: int) -> dt.date:
        return _to_date(self.end, year, self.name)

    def contains(self, day: dt.date) -> bool:
        return self.start_date(day.year) <= day <= self.end_date(day.year)


def _parse_md(text: str, name: str) -> tuple[int | None, int, int]:
    parts = text.strip().split("-")
    try:
        if len(parts) == 2:
            m, d = int(parts[0]), int(parts[1])
            dt.date(2000, m, d)  # 2000 is a leap year: 02-29 is allowed
            return None, m, d
        if len(parts) == 3:
            day = dt.date.fromisoformat(text.strip())
            return day.year, day.month, day.day
    except ValueError:
        pass
    raise ValueError(f"scenario {name}: {text!r} is not MM-DD or YYYY-MM-DD")


def _to_date(text: str, year: int, name: str) -> dt.date:
    y, m, d = _parse_md(text, name)
    if y is not None:
        return dt.date(y, m, d)
    if (m, d) == (2, 29) and not _leap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, m, d)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _overlap(a: Scenario, b: Scenario) -> bool:
    if a.recurring and b.recurring:
        return not (a.end_date(2000) < b.start_date(2000) or b.end_date(2000) < a.start_date(2000))
    fixed, other = (a, b) if not a.recurring else (b, a)
    years = range(fixed.start_date(0).year, fixed.end_date(0).year + 1)
    for y in years:
        if not (fixed.end_date(y) < other.start_date(y) or other.end_date(y) < fixed.start_date(y)):
            return True
    return False


class Move(_Model):
    from_: str = Field(alias="from")
    to: str
    weight: float = Field(gt=0, le=1)


class Trigger(_Model):
    """If a shop or team metric crosses a threshold in the period, move weight."""

    name: str
    scope: Literal["shop", "team"] = "shop"
    metric: str
    op: Literal[">", ">=", "<", "<="]
    value: float
    move: Move

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in BY_KEY:
            raise ValueError(_metric_error(v))
        return v

    def fires(self, value: float | None) -> bool:
        if value is None:
            return False
        return {
            ">": value > self.value,
            ">=": value >= self.value,
            "<": value < self.value,
            "<=": value <= self.value,
        }[self.op]


class Grade(_Model):
    grade: str
    min: float


class PayRule(_Model):
    """A bonus (amount > 0) or deduction (amount < 0)."""

    name: str
    kind: Literal["top", "per_count", "streak"]
    amount: float
    metric: str | None = None
    count: str | None = None
    beyond: float = Field(0, ge=0, description="per_count: only counts above this")
    periods: int = Field(3, ge=2, description="streak: periods running, this one included")
    min_count: int | None = Field(None, ge=1, description="top/streak: events needed to compete")

    @model_validator(mode="after")
    def _check(self) -> PayRule:
        if self.kind in ("top", "streak"):
            if self.metric is None:
                raise ValueError(f"pay rule {self.name}: kind {self.kind} needs metric")
            if self.metric not in BY_KEY:
                raise ValueError(f"pay rule {self.name}: {_metric_error(self.metric)}")
            if BY_KEY[self.metric].direction is Direction.NONE:
                raise ValueError(f"pay rule {self.name}: {self.metric} has no better direction")
            if self.min_count is not None and registry_count_metric(self.metric) is None:
                raise ValueError(
                    f"pay rule {self.name}: min_count needs a metric with a known count "
                    f"({self.metric} has none)"
                )
        else:
            if self.count is None:
                raise ValueError(f"pay rule {self.name}: kind per_count needs count")
            if self.count not in BY_KEY and self.count not in EXTRA_COUNTS:
                known = ", ".join(EXTRA_COUNTS)
                raise ValueError(
                    f"pay rule {self.name}: count {self.count!r} is neither a metric nor one of "
                    f"{known}"
                )
        return self


class Pay(_Model):
    target_salary: float = Field(6000, ge=0, description="目标月薪, per evaluated period")
    salaries: dict[str, float] = Field(default_factory=dict, description="agent_id → target")
    performance_share: float = Field(0.5, ge=0, le=1)
    performance_mode: Literal["grade", "total"] = "grade"
    grade_coefficients: dict[str, float] = Field(
        default_factory=lambda: {"A": 1.2, "B": 1.0, "C": 0.6}
    )
    rules: list[PayRule] = Field(default_factory=list)


class Training(_Model):
    max_items: int = Field(3, ge=1)


class Scheme(_Model):
    name: str
    version: str = "1"
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    missing: Missing = Missing.rescale
    items: list[Item] | None = None
    groups: list[Group] | None = None
    ahp: Matrix | None = None
    scenarios: list[Scenario] = Field(default_factory=list)
    scenario_combine: Literal["days", "received"] = "days"
    triggers: list[Trigger] = Field(default_factory=list)
    grades: list[Grade] = Field(
        default_factory=lambda: [
            Grade(grade="A", min=80),
            Grade(grade="B", min=60),
            Grade(grade="C", min=0),
        ]
    )
    pay: Pay = Field(default_factory=lambda: Pay.model_validate({}))
    training: Training = Field(default_factory=lambda: Training.model_validate({}))
    params: dict[str, Any] | None = None
    """metric options for this scheme's evaluation (business_hours, day_cutoff …)"""

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if not value:
            return None
        known = set(MetricParams.model_fields) - {"tz"}
        unknown = sorted(set(value) - known)
        if unknown:
            hint = "the time zone is the data's (--tz)" if unknown == ["tz"] else (
                f"known: {', '.join(sorted(known))}")
            raise ValueError(f"params: unknown option {unknown[0]!r} ({hint})")
        MetricParams.model_validate(value)  # the values must be valid too
        return dict(value)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> str:
        return str(v)

    @model_validator(mode="after")
    def _check(self) -> Scheme:
        if (self.items is None) == (self.groups is None):
            raise ValueError("give either items (one level) or groups (two levels)")
        self.flat_weights()  # validates weights and AHP matrices
        keys = [i.key for i in self.all_items()]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"items appear twice: {dup}")
        for s in self.scenarios:
            self.with_scenario(s.name)  # the overridden scheme must be valid too
        for i, a in enumerate(self.scenarios):
            for b in self.scenarios[i + 1 :]:
                if _overlap(a, b):
                    raise ValueError(
                        f"scenarios {a.name} ({a.start}..{a.end}) and {b.name} "
                        f"({b.start}..{b.end}) overlap; a day belongs to at most one scenario"
                    )
        names = [s.name for s in self.scenarios]
        if len(set(names)) != len(names):
            raise ValueError("two scenarios share a name")
        for t in self.triggers:
            if t.move.from_ == t.move.to:
                raise ValueError(f"trigger {t.name}: moves weight from {t.move.to} to itself")
            for k in (t.move.from_, t.move.to):
                if k not in keys:
                    raise ValueError(f"trigger {t.name}: moves weight of {k!r}, not an item")
        mins = [g.min for g in self.grades]
        if not self.grades or mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("grades must be listed from the highest min to the lowest, distinct")
        if mins[-1] > 0:
            raise ValueError(
                f"the lowest grade {self.grades[-1].grade} must start at 0 so that every "
                f"total gets a grade (min is {mins[-1]:g})"
            )
        if self.pay.performance_mode == "grade":
            lacking = [g.grade for g in self.grades if g.grade not in self.pay.grade_coefficients]
            if lacking:
                raise ValueError(f"pay.grade_coefficients has no coefficient for {lacking}")
        return self

    def all_items(self) -> list[Item]:
        if self.items is not None:
            return list(self.items)
        return [i for g in self.groups or [] for i in g.items]

    def item(self, key: str) -> Item:
        return next(i for i in self.all_items() if i.key == key)

    def group_of(self, key: str) -> str | None:
        for g in self.groups or []:
            if any(i.key == key for i in g.items):
                return g.name
        return None

    def flat_weights(self) -> dict[str, float]:
        """Item key → final weight (group weight × weight inside the group); sums to 1."""
        if self.items is not None:
            names = [i.key for i in self.items]
            ws = _resolve_weights(self.items, names, self.ahp, "items")
            return dict(zip(names, ws, strict=True))
        groups = self.groups or []
        gnames = [g.name for g in groups]
        if len(set(gnames)) != len(gnames):
            raise ValueError("two groups share a name")
        gws = _resolve_weights(groups, gnames, self.ahp, "groups")
        out: dict[str, float] = {}
        for g, gw in zip(groups, gws, strict=True):
            names = [i.key for i in g.items]
            ws = _resolve_weights(g.items, names, g.ahp, f"group {g.name}")
            for k, w in zip(names, ws, strict=True):
                out[k] = gw * w
        return out

    def with_scenario(self, name: str | None) -> Scheme:
        """This scheme with a scenario's overrides applied (validated again)."""
        if name is None:
            return self
        sc = next(s for s in self.scenarios if s.name == name)
        data = self.model_dump(by_alias=True, exclude_none=True)
        data["scenarios"] = []  # the overridden copy is one plain scheme
        gmap = {g["name"]: g for g in data.get("groups") or []}
        for gname, w in sc.groups.items():
            if gname not in gmap:
                raise ValueError(f"scenario {sc.name}: no group named {gname!r}")
            gmap[gname]["weight"] = w
        if sc.groups:
            data.pop("ahp", None)
        items = [i for g in data.get("groups") or [] for i in g["items"]] + (
            data.get("items") or []
        )
        imap = {i["key"]: i for i in items}
        for key, ov in sc.items.items():
            if key not in imap:
                raise ValueError(f"scenario {sc.name}: no item {key!r}")
            imap[key].update(ov.model_dump(exclude_none=True))
            if ov.weight is not None:
                # an explicit weight replaces the AHP matrix of that level
                for g in data.get("groups") or []:
                    if any(i["key"] == key for i in g["items"]):
                        g.pop("ahp", None)
                if data.get("items") is not None:
                    data.pop("ahp", None)
        try:
            return Scheme.model_validate(data)
        except ValidationError as exc:
            raise ValueError(f"scenario {sc.name}: {_format_errors(exc)}") from None

    def scenario_on(self, day: dt.date) -> str | None:
        for s in self.scenarios:
            if s.contains(day):
                return s.name
        return None

    def describe(self) -> dict[str, Any]:
        """The scheme as stored with a result: name, version and the exact content."""
        return {
            "name": self.name,
            "version": self.version,
            "content": self.model_dump(by_alias=True, exclude_none=True, mode="json"),
        }


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for e in exc.errors():
        loc = ""
        for part in e["loc"]:
            # 0-based positions read as list indexes: groups[1].items[0]
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        msg = str(e["msg"]).removeprefix("Value error, ")
        lines.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(lines)


def parse_scheme(data: Any, source: str = "scheme") -> Scheme:
    """A Scheme from parsed YAML/JSON data; SchemeError with every problem found."""
    if not isinstance(data, dict):
        raise SchemeError(f"{source}: a scheme is a mapping (name:, items: or groups: …)")
    try:
        return Scheme.model_validate(copy.deepcopy(data))
    except ValidationError as exc:
        raise SchemeError(f"{source}: {_format_errors(exc)}") from None


def load_scheme(path: Path | str) -> Scheme:
    """Read and validate a scheme YAML file (or a template name such as ``presale``)."""
    p = Path(path)
    if not p.exists() and (TEMPLATES_DIR / f"{path}.yaml").exists():
        p = TEMPLATES_DIR / f"{path}.yaml"
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SchemeError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SchemeError(f"{p}: not valid YAML ({exc})") from None
    return parse_scheme(data, str(p))


def scheme_fingerprint(scheme: Scheme) -> str:
    """sha256 of the scheme's normalised content: the version a result was computed with."""
    text = yaml.safe_dump(scheme.describe()["content"], allow_unicode=True, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
