"""Settings: the defaults of every analysis option and of the app, written once.

Read from environment variables ``KEFU_*`` (``KEFU_TZ=Europe/Berlin``) and an
optional ``kefu.toml`` in the working folder (or the file ``KEFU_CONFIG``
names); an explicit option on a command or in the API wins over both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_TZ = "Asia/Shanghai"


US_PER_MIN = 60_000_000
MIN_PER_DAY = 24 * 60


def clock_minutes(text: str, allow_24: bool = False) -> int:
    """Minutes after midnight of ``HH:MM`` (``24:00`` only where ``allow_24``).

    ``HH:MM:00`` is read too: spreadsheets and Parquet writers add the seconds.
    """
    parts = text.strip().split(":")
    if len(parts) == 3 and parts[2] == "00":
        parts = parts[:2]
    hh, mm = (parts + [""])[:2] if len(parts) == 2 else ("", "")
    if not (hh.isdigit() and mm.isdigit() and len(mm) == 2):
        raise ValueError(f"{text!r} is not a time HH:MM")
    minutes = int(hh) * 60 + int(mm)
    if int(mm) > 59 or minutes > MIN_PER_DAY or (minutes == MIN_PER_DAY and not allow_24):
        raise ValueError(f"{text!r} is not a time of day")
    return minutes


def split_list(text: str | None) -> list[str]:
    """A comma list (either comma, 、 or ，) as its non-empty, stripped items."""
    if not text:
        return []
    for sep in ("，", "、"):
        text = text.replace(sep, ",")
    return [item.strip() for item in text.split(",") if item.strip()]


def config_file() -> Path:
    return Path(os.environ.get("KEFU_CONFIG", "kefu.toml"))


class MetricParams(BaseModel):
    """Parameters of the metric definitions (metrics.md), set per run, scheme or shop."""

    session_gap_min: float = Field(30, gt=0, description="gap that splits conversations, minutes")
    response_target_s: float = Field(30, ge=0, description="on-time response target, seconds")
    conversion_window_days: int = Field(
        1, ge=0, description="inquiry converts with an order before 00:00 of day+window+1"
    )
    repeat_window_h: float = Field(48, ge=0, description="repeat-contact look-ahead, hours")
    tz: str = Field(DEFAULT_TZ, description="the shop's time zone (IANA name)")
    # Settings shops expect (issue 10); every default leaves metrics.md's numbers unchanged.
    business_hours: str | None = Field(
        None, description="HH:MM-HH:MM; response clocks pause outside (default: all day)"
    )
    day_cutoff: str = Field(
        "00:00", description="业务天分割点 HH:MM: business days (buyer-days, periods) start here"
    )
    turn_cap_s: float | None = Field(
        None, gt=0, description="a buyer turn counts at most this many seconds (default: no cap)"
    )
    unanswered_turns: Literal["exclude", "cap"] = Field(
        "exclude", description="unanswered turns in response times: exclude, or count as the cap"
    )
    conversion_basis: Literal["order", "payment"] = Field(
        "order", description="下单/付款判定: an inquiry converts by the order's or payment's time"
    )
    final_payment_days: int | None = Field(
        None, ge=0, description="最终付款: an order counts if paid by its day + N (pre-sale)"
    )
    transfer_credit: Literal["last_touch", "most_turns"] = Field(
        "last_touch", description="who a transferred sale is credited to"
    )
    transfer_markers: str = Field(
        "转接,转交", description="comma list: a system message with one of these is a transfer"
    )
    filter_buyers: str | None = Field(
        None, description="comma list of the shop's own buyer accounts, filtered out"
    )
    filter_self_chat: bool = Field(
        False, description="filter chats whose buyer is one of the shop's agent accounts"
    )
    filter_empty_chats: bool = Field(
        False, description="filter buyer-days whose buyer messages are all empty"
    )
    min_buyer_messages: int = Field(
        0, ge=0, description="filter buyer-days with fewer buyer messages (0: off)"
    )
    secret_phrases: str | None = Field(
        None, description="comma list of 暗语 test phrases: their buyer-days are filtered"
    )
    filter_order_status: str | None = Field(
        None, description="orders whose status contains this text (e.g. 补单) are filtered"
    )
    late_grace_min: float = Field(
        0, ge=0, description="minutes after a shift's start before a first login is late"
    )
    trust_verdicts: str | None = Field(
        None, description="comma list of QA verdicts to count although kefu's blind "
        "measurement misses their floor (forbidden, upset, agent_chat_negative, "
        "buyer_chat_negative): for a shop that measured them on its own chats"
    )

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        start, sep, end = value.replace("–", "-").replace("~", "-").partition("-")
        if not sep:
            raise ValueError(f"{value!r} is not HH:MM-HH:MM")
        opens, closes = clock_minutes(start), clock_minutes(end, allow_24=True)
        if opens == closes % MIN_PER_DAY:
            raise ValueError(f"{value!r}: opening and closing time are the same")
        return f"{start.strip()}-{end.strip()}"

    @field_validator("day_cutoff")
    @classmethod
    def _cutoff(cls, value: str) -> str:
        clock_minutes(value)
        return value.strip()

    @property
    def business_window_us(self) -> tuple[int, int] | None:
        """(opening, closing) as microseconds after local midnight; closing may be < opening
        (a window over midnight, e.g. 20:00-02:00)."""
        if self.business_hours is None:
            return None
        start, _, end = self.business_hours.partition("-")
        return clock_minutes(start) * US_PER_MIN, clock_minutes(end, True) * US_PER_MIN

    @property
    def session_gap_us(self) -> int:
        """session_gap_min in whole microseconds (the facts' integer clock)."""
        return int(round(self.session_gap_min * 60 * 1_000_000))

    @property
    def repeat_window_us(self) -> int:
        """repeat_window_h in whole microseconds."""
        return int(round(self.repeat_window_h * 3600 * 1_000_000))

    @property
    def day_cutoff_us(self) -> int:
        """The business day's start, microseconds after local midnight (0: midnight)."""
        return clock_minutes(self.day_cutoff) * US_PER_MIN


class AnalysisFields(MetricParams):
    """Every analysis option with its default and help text (declared once)."""

    profile: Path | None = Field(None, description="mapping profile (YAML) for the exports")
    lexicons: Path | None = Field(None, description="folder of the shop's lexicon overrides")
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="analytics engine")
    qa: bool = Field(True, description="run the automatic quality checks (text checks)")
    skip_bad_rows: bool = Field(False, description="load the good rows of files with bad rows")
    allow_empty: tuple[str, ...] = Field(
        (), description="tables whose files may be empty or header-only on purpose")
    spark_master: str = Field(
        "local[*]", description="Spark master URL: local[*], spark://host:7077, yarn …")
    spark_input: str | None = Field(
        None, description="where the Spark cluster reads the data: a shared folder or an "
        "s3a://, hdfs://, file:// URL (default: the --data folder)")
    spark_driver_memory: str | None = Field(
        None, description="Spark driver memory, e.g. 512m (default: Spark's, 1g)")
    spark_executor_memory: str | None = Field(
        None, description="memory of each Spark executor, e.g. 2g (default: Spark's, 1g)")
    spark_partitions: int = Field(8, gt=0, description="Spark shuffle partitions")


class Settings(AnalysisFields, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    # the web app
    database_url: str | None = Field(None, description="app database; default SQLite file")
    secret_key: str | None = Field(None, description="signs sessions; required outside demo")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # explicit values, then the environment, then kefu.toml
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )


def get_settings() -> Settings:
    """The settings as the environment and kefu.toml say now (cheap; read on each call)."""
    return Settings()
