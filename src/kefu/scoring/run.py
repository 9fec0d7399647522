"""One call per CLI command: load the data folder, the scheme and the extras, evaluate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kefu.metrics.params import MetricParams
from kefu.scoring.evaluate import Evaluation, evaluate
from kefu.scoring.scheme import load_scheme
from kefu.scoring.sources import DatasetSource, Source, load_history, load_manual
from kefu.scoring.whatif import whatif


def _source(data: Path, tz: str, qa: bool, profile: Path | None) -> tuple[Source, list[str]]:
    from kefu.ingest import load_dir
    from kefu.scoring.reported import FilledSource, folder_source, has_messages

    reported = folder_source(data, tz)  # a workspace holding an imported KPI report
    if reported is not None and not has_messages(data):
        return reported, []
    loaded = load_dir(data, tz=tz, profile=profile)
    params = MetricParams.model_validate({"tz": tz})
    computed = DatasetSource(loaded.dataset, params, qa=qa)
    source = FilledSource(computed, reported) if reported is not None else computed
    return source, list(loaded.warnings)


def _extras(manual: Path | None, history: Path | None) -> tuple[Any, Any]:
    """Supervisor scores and stored earlier results, when given."""
    return (load_manual(manual) if manual else None, load_history(history) if history else None)


def evaluate_dir(
    data: Path,
    scheme: Path,
    start: dt.date,
    end: dt.date,
    manual: Path | None = None,
    history: Path | None = None,
    tz: str = "Asia/Shanghai",
    qa: bool = True,
    profile: Path | None = None,
) -> Evaluation:
    """`kefu evaluate`: the scheme applied to the data folder for start..end."""
    sch = load_scheme(scheme)  # first: a bad scheme fails before the data is read
    man, hist = _extras(manual, history)
    source, warnings = _source(data, tz, qa, profile)
    ev = evaluate(source, sch, start, end, man, hist)
    ev.warnings = warnings + ev.warnings
    return ev


def whatif_dir(
    data: Path,
    scheme_a: Path,
    scheme_b: Path,
    start: dt.date,
    end: dt.date,
    manual: Path | None = None,
    history: Path | None = None,
    tz: str = "Asia/Shanghai",
    qa: bool = True,
    profile: Path | None = None,
) -> dict[str, Any]:
    """`kefu whatif`: both schemes on the same data and period, compared."""
    a, b = load_scheme(scheme_a), load_scheme(scheme_b)
    man, hist = _extras(manual, history)
    source, warnings = _source(data, tz, qa, profile)
    out = whatif(source, a, b, start, end, man, hist)
    out["warnings"] = warnings + out["warnings"]
    return out


def training_dir(
    data: Path,
    scheme: Path,
    start: dt.date,
    end: dt.date,
    manual: Path | None = None,
    history: Path | None = None,
    tz: str = "Asia/Shanghai",
    qa: bool = True,
) -> dict[str, Any]:
    """`kefu training`: each agent's plan and the follow-up of last period's plan."""
    ev = evaluate_dir(data, scheme, start, end, manual, history, tz, qa)
    full = ev.to_json_dict()
    keep = ("agent_id", "name", "team", "total", "prev_total", "training", "follow_up")
    return {
        "start": full["start"],
        "end": full["end"],
        "prev_start": full["prev_start"],
        "prev_end": full["prev_end"],
        "agents": [{k: a[k] for k in keep} for a in full["agents"]],
        "teams": full["teams"],
        "warnings": full["warnings"],
    }
