"""Where scoring gets metrics: a dataset (computed on demand, memoised) or stored results."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import yaml

from kefu.metrics.params import MetricParams
from kefu.metrics.result import MetricsResult

Counts = dict[str, dict[str, float]]
"""agent_id → extra count name (scheme.EXTRA_COUNTS) → value."""
Manual = dict[str, dict[str, float]]
"""agent_id → manual item → points 0–100."""


class Source(Protocol):
    def metrics(self, start: dt.date, end: dt.date) -> MetricsResult: ...

    def counts(self, start: dt.date, end: dt.date) -> Counts: ...

    def has_data(self, start: dt.date, end: dt.date) -> bool: ...


class StaticSource:
    """Metrics given by hand (tests, stored runs): one MetricsResult per (start, end)."""

    def __init__(
        self,
        results: dict[tuple[dt.date, dt.date], MetricsResult],
        counts: dict[tuple[dt.date, dt.date], Counts] | None = None,
    ) -> None:
        self.results = results
        self._counts = counts or {}

    def metrics(self, start: dt.date, end: dt.date) -> MetricsResult:
        try:
            return self.results[(start, end)]
        except KeyError:
            raise KeyError(f"no metrics for {start}..{end}") from None

    def counts(self, start: dt.date, end: dt.date) -> Counts:
        return self._counts.get((start, end), {})

    def has_data(self, start: dt.date, end: dt.date) -> bool:
        return (start, end) in self.results


class DatasetSource:
    """Metrics of a loaded Dataset, computed once per period (segments, previous periods)."""

    def __init__(
        self,
        dataset: Any,
        params: MetricParams | None = None,
        qa: bool = True,
        compute: Callable[..., MetricsResult] | None = None,
    ) -> None:
        if compute is None:
            from kefu.metrics import compute as compute_metrics

            compute = compute_metrics
        self.dataset = dataset
        self.params = params or MetricParams.model_validate(
            {"tz": getattr(dataset, "tz", "Asia/Shanghai")}
        )
        self.qa = qa
        self._compute = compute
        self._memo: dict[tuple[dt.date, dt.date], MetricsResult] = {}
        self._partial: dict[tuple[dt.date, dt.date, frozenset[str]], MetricsResult] = {}

    def metrics(self, start: dt.date, end: dt.date) -> MetricsResult:
        if (start, end) not in self._memo:
            self._memo[(start, end)] = self._compute(
                self.dataset, start, end, self.params, qa=self.qa
            )
        return self._memo[(start, end)]

    def metrics_for(self, start: dt.date, end: dt.date, keys: frozenset[str]) -> MetricsResult:
        """Only ``keys`` (and what they divide by): a scheme's segments need no more."""
        if (start, end) in self._memo:
            return self._memo[(start, end)]
        if (start, end, keys) not in self._partial:
            self._partial[(start, end, keys)] = self._compute(
                self.dataset, start, end, self.params, qa=self.qa, keys=keys
            )
        return self._partial[(start, end, keys)]

    def has_data(self, start: dt.date, end: dt.date) -> bool:
        """True when some agent received a buyer in the period (else it predates the data)."""
        days = self._message_days()
        return any(start <= d <= end for d in days)

    def _message_days(self) -> set[dt.date]:
        if not hasattr(self, "_days"):
            table = self.dataset.messages
            col = "sent_local" if "sent_local" in table.column_names else "sent_at"
            import pyarrow as pa
            import pyarrow.compute as pc

            # business days: local times before the day cut belong to the day before
            cut = pa.scalar(self.params.day_cutoff_us, pa.duration("us"))
            days = pc.unique(pc.cast(pc.subtract(table.column(col), cut), "date32")).to_pylist()
            self._days: set[dt.date] = {d for d in days if d is not None}
        return self._days

    def counts(self, start: dt.date, end: dt.date) -> Counts:
        """disputes_won per agent: seller_won disputes opened in the period (metrics.md: cases
        belong to the period of opened_at)."""
        out: Counts = {}
        cases = getattr(self.dataset, "cases", None)
        if cases is None:
            return out
        col = "opened_local" if "opened_local" in cases.column_names else "opened_at"
        rows = cases.select(
            [
                c
                for c in ("agent_id", col, "kind", "platform_intervened", "outcome")
                if c in cases.column_names
            ]
        ).to_pylist()
        for r in rows:
            opened = r.get(col)
            if opened is None or r.get("outcome") != "seller_won":
                continue
            if isinstance(opened, dt.datetime):  # the business day (day_cutoff)
                opened -= dt.timedelta(microseconds=self.params.day_cutoff_us)
            day = opened.date() if isinstance(opened, dt.datetime) else opened
            if not (start <= day <= end):
                continue
            if r.get("kind") == "dispute" or r.get("platform_intervened"):
                agent = out.setdefault(str(r["agent_id"]), {})
                agent["disputes_won"] = agent.get("disputes_won", 0) + 1
        return out


def load_manual(path: Path) -> Manual:
    """Supervisor scores: CSV with columns agent_id,item,points, or YAML/JSON.

    YAML/JSON is either a list of {agent_id, item, points} or a mapping
    agent_id → {item: points}. Points must be within 0–100.
    """
    p = Path(path)
    text = p.read_bytes().decode("utf-8-sig")
    rows: list[dict[str, Any]] = []
    if p.suffix.lower() in (".yaml", ".yml", ".json"):
        data = yaml.safe_load(text)
        if isinstance(data, dict):
            for agent, items in data.items():
                if not isinstance(items, dict):
                    raise ValueError(f"{p}: {agent}: expected a mapping item → points")
                rows += [{"agent_id": agent, "item": k, "points": v} for k, v in items.items()]
        elif isinstance(data, list):
            rows = [dict(r) for r in data]
        else:
            raise ValueError(f"{p}: expected a list or a mapping of manual scores")
    else:
        reader = csv.DictReader(io.StringIO(text))
        need = {"agent_id", "item", "points"}
        if not need <= set(reader.fieldnames or []):
            raise ValueError(f"{p}: manual scores need the columns agent_id,item,points")
        rows = list(reader)
    out: Manual = {}
    for n, r in enumerate(rows, start=2):
        try:
            pts = float(r["points"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{p}: row {n}: points {r.get('points')!r} is not a number") from None
        if not 0 <= pts <= 100:
            raise ValueError(f"{p}: row {n}: points {pts:g} outside 0–100")
        out.setdefault(str(r["agent_id"]).strip(), {})[str(r["item"]).strip()] = pts
    return out


def load_history(folder: Path) -> dict[tuple[dt.date, dt.date], dict[str, Any]]:
    """Stored results of `kefu evaluate --format json` in a folder, by (start, end)."""
    out: dict[tuple[dt.date, dt.date], dict[str, Any]] = {}
    for f in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(f.read_text(encoding="utf-8-sig"))
            key = (dt.date.fromisoformat(data["start"]), dt.date.fromisoformat(data["end"]))
        except (ValueError, KeyError, TypeError):
            continue  # not a stored evaluation; a history folder may hold other files
        if "agents" in data and "scheme" in data:
            out[key] = data
    return out
