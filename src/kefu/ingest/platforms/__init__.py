"""Platform profiles: how one platform's own export is read (chat-record text, KPI report,
helpdesk table, Twitter care JSON). Shipped as editable YAML files beside this module;
a user's profile is a YAML file of the same shape (no code). See docs/data.md.

    load_platform_profile("jd_dongdong") / load_platform_profile(Path("my.yaml"))
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kefu.ingest.schema import ROLES, TABLES
from kefu.metrics.registry import BY_KEY

HERE = Path(__file__).resolve().parent
Role = Literal["presale", "aftersale", "both"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
    return patterns


class RoleRules(_Model):
    """How a chat record's sender becomes buyer, agent, bot or system (first rule that fits)."""

    agent_patterns: list[str] = Field(default_factory=list,
                                      description="regex on the sender: a human agent account")
    bot_patterns: list[str] = Field(default_factory=list, description="regex: a robot account")
    system_texts: list[str] = Field(default_factory=list,
                                    description="text marking a platform line")
    system_patterns: list[str] = Field(default_factory=list,
                                       description="regex on the content: a platform text")

    @field_validator("agent_patterns", "bot_patterns", "system_patterns")
    @classmethod
    def patterns(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)


class ChatlogSpec(_Model):
    format: Literal["jd_blocks", "taobao_lines"]
    roles: RoleRules = Field(default_factory=RoleRules)


class TableSpec(_Model):
    """A helpdesk table (one row per ticket or rating) mapped onto one canonical table."""

    table: str
    header_row: str = Field(description="a header every file of this layout has")
    columns: dict[str, str | None] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    skip_values: dict[str, list[str]] = Field(
        default_factory=dict, description="canonical column → values whose row is not a record")
    agent_pattern: str | None = Field(
        None, description="regex with groups id (and name) applied to the agent cell")
    utc: bool = Field(False, description="naive time stamps are UTC (not shop time)")

    @field_validator("values", mode="before")
    @classmethod
    def values_as_text(cls, raw: object) -> object:
        if isinstance(raw, dict):
            return {c: {str(k): str(v) for k, v in (m or {}).items()} for c, m in raw.items()}
        return raw

    @model_validator(mode="after")
    def known_columns(self) -> TableSpec:
        if self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}")
        known = TABLES[self.table].column_index
        bad = [c for c in [*self.columns.values(), *self.values, *self.skip_values]
               if c is not None and c not in known]
        if bad:
            raise ValueError(f"{self.table} has no column {bad[0]!r}")
        if self.agent_pattern:
            _check_patterns([self.agent_pattern])
        return self


Unit = Literal["count", "ratio", "percent", "seconds", "minutes", "hours", "cny", "score5"]


class ReportMetric(_Model):
    key: str
    unit: Unit
    aggregate: Literal["sum", "mean"] | None = Field(
        None, description="how rows of several days combine (default: by the metric's unit)")
    weight: str | None = Field(None, description="registry key weighting a mean (e.g. received)")
    definition: str = Field("", description="the platform's own definition of the column")

    @field_validator("key", "weight")
    @classmethod
    def registry_key(cls, key: str | None) -> str | None:
        if key is not None and key not in BY_KEY:
            raise ValueError(f"unknown metric key {key!r}")
        return key


class ReportSpec(_Model):
    """A KPI report: one row per agent (and day), columns of aggregated values."""

    agent_column: str
    name_column: str | None = None
    team_column: str | None = None
    date_column: str | None = Field(None, description="day of the row (else the file's period)")
    period_pattern: str | None = Field(
        None, description="regex with two dates, matched on lines outside the table")
    summary_values: list[str] = Field(default_factory=lambda: ["汇总", "合计", "总计", "均值",
                                                                "平均", "平均值"])
    metrics: dict[str, ReportMetric] = Field(default_factory=dict)
    ratings: dict[str, int] = Field(default_factory=dict,
                                    description="header → score 1..5 of a rating-count column")

    @field_validator("ratings")
    @classmethod
    def scores(cls, ratings: dict[str, int]) -> dict[str, int]:
        bad = {h: s for h, s in ratings.items() if not 1 <= s <= 5}
        if bad:
            raise ValueError(f"rating scores must be 1..5: {bad}")
        return ratings


class PlatformProfile(_Model):
    name: str
    title: str
    platform: str
    kind: Literal["chatlog", "report", "table", "twitter_json"]
    status: Literal["documented", "described"] = Field(
        description="documented: layout seen in public material; described: from the issue only")
    sources: list[str] = Field(default_factory=list)
    notes: str = ""
    missing: list[str] = Field(default_factory=lambda: ["-", "--", "—", "N/A", "n/a", "null"],
                               description="cells meaning 'no value'")
    footer_patterns: list[str] = Field(default_factory=list,
                                       description="regex: a line that is not a data row")
    default_role: Role = Field("both", description="role of an agent not in the shop's table")
    team: str = Field("", description="team of an agent not in the shop's table")
    chatlog: ChatlogSpec | None = None
    report: ReportSpec | None = None
    table: TableSpec | None = None

    @field_validator("footer_patterns")
    @classmethod
    def patterns(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)

    @model_validator(mode="after")
    def section_of_kind(self) -> PlatformProfile:
        section = {"chatlog": self.chatlog, "report": self.report, "table": self.table,
                   "twitter_json": True}[self.kind]
        if section is None:
            raise ValueError(f"kind {self.kind} needs a {self.kind!r} section")
        assert self.default_role in ROLES
        return self


def builtin_profiles() -> dict[str, Path]:
    """Shipped profile name → file."""
    return {p.stem: p for p in sorted(HERE.glob("*.yaml"))}


def is_platform_profile(ref: str | Path) -> bool:
    """A shipped name, or a YAML file with a ``kind`` (mapping profiles have none)."""
    if str(ref) in builtin_profiles():
        return True
    path = Path(ref)
    if not path.is_file():
        return False
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(raw, dict) and "kind" in raw


def load_platform_profile(ref: str | Path) -> PlatformProfile:
    """A shipped profile by name, or a profile file; ValueError says what is wrong."""
    builtin = builtin_profiles()
    path = builtin.get(str(ref), Path(ref))
    if not path.is_file():
        raise ValueError(
            f"no profile {str(ref)!r}: not a file and not one of {', '.join(builtin)}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return PlatformProfile.model_validate(raw or {})
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read profile {path}: {exc}") from exc
    except ValidationError as exc:
        raise ValueError(f"invalid profile {path}: {exc}") from exc


def aliases(known: dict[str, str] | None) -> dict[str, str]:
    """agent_id → name of the shop's agents, as lookup: account or display name → agent_id."""
    known = known or {}
    return {**{name: agent for agent, name in known.items() if name}, **{a: a for a in known}}
