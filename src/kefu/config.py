"""Settings: the defaults of every analysis option and of the app, written once.

Read from environment variables ``KEFU_*`` (``KEFU_TZ=Europe/Berlin``) and an
optional ``kefu.toml`` in the working folder (or the file ``KEFU_CONFIG``
names); an explicit option on a command or in the API wins over both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_TZ = "Asia/Shanghai"


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
