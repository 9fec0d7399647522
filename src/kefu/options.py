"""The analysis options: every command and the Python API take these.

The fields, defaults and help texts are declared once (kefu.config.AnalysisFields);
here the defaults come from the settings (``KEFU_*`` variables, ``kefu.toml``),
so ``Asia/Shanghai`` is written in one place. The CLI builds its options from
these fields, so a new option appears on every command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from kefu.config import AnalysisFields, MetricParams, get_settings

METRIC_PARAMS = tuple(MetricParams.model_fields)


class AnalysisOptions(AnalysisFields):
    """How data is read and how the metric definitions are parameterised."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_settings(cls, data: Any) -> Any:
        """Options not given (or given as None) take the settings' value."""
        if not isinstance(data, dict):
            return data
        settings = get_settings().model_dump(include=set(cls.model_fields))
        return {**settings, **{k: v for k, v in data.items() if v is not None}}

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("trust_verdicts")
    @classmethod
    def _known_verdicts(cls, value: str | None) -> str | None:
        from kefu.qa.floors import trusted_verdicts

        if value is None:
            return None
        return ",".join(sorted(trusted_verdicts(value.split(",")))) or None

    @field_validator("profile", "lexicons")
    @classmethod
    def _existing(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None or value.exists():
            return value
        if info.field_name == "profile":
            from kefu.ingest.platforms import builtin_profiles

            if str(value) in builtin_profiles():
                return value  # a shipped platform profile, by name (kefu profiles)
        raise ValueError(f"{value} does not exist")

    @property
    def reads_on_cluster(self) -> bool:
        """Spark with a cluster master or a shared input location: the cluster reads the
        files itself (Parquet; no text checks yet). Local Spark reads them in kefu, as
        DuckDB does, so every format and the checks work there."""
        return self.engine == "spark" and (
            not self.spark_master.startswith("local") or self.spark_input is not None)

    @property
    def params(self) -> MetricParams:
        """The metric definitions' parameters (metrics.md) of these options."""
        return MetricParams(**{k: getattr(self, k) for k in METRIC_PARAMS})

    def to_manifest(self) -> dict[str, Any]:
        """JSON-ready, paths as text: enough to build the same options again."""
        return self.model_dump(mode="json")


def analysis_options(**given: Any) -> AnalysisOptions:
    """Options from keyword arguments; None or absent means the settings' default."""
    return AnalysisOptions.model_validate(given)
