"""Parameters of the metric definitions (metrics.md), set per run, scheme or shop."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MetricParams(BaseModel):
    session_gap_min: float = Field(30, gt=0, description="gap that splits conversations, minutes")
    response_target_s: float = Field(30, ge=0, description="on-time response target, seconds")
    conversion_window_days: int = Field(
        1, ge=0, description="inquiry converts with an order before 00:00 of day+window+1"
    )
    repeat_window_h: float = Field(48, ge=0, description="repeat-contact look-ahead, hours")
    tz: str = Field("Asia/Shanghai", description="the shop's time zone (IANA name)")
