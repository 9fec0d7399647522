"""One analysis session: data + options → facts once → metrics, evidence, evaluations.

    with Analysis(Path("shop"), analysis_options(session_gap_min=20)) as analysis:
        june = analysis.metrics(date(2024, 6, 1), date(2024, 6, 30))
        rows = analysis.evidence("avg_response_s", date(2024, 6, 1), date(2024, 6, 30), "店:小美")
        card = analysis.evaluate("presale", date(2024, 6, 1), date(2024, 6, 30))

The data is read and validated once, the automatic checks run once per distinct
text (and are kept in a workspace, see kefu.store.check_cache), the facts are
built once; every period, scenario segment, previous period and evidence query
reads the same facts, so the CLI, the web app and a score card cannot disagree.
Every result carries a manifest (kefu.manifest) that is enough to re-derive it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from kefu.analysis.check_cache import checked_flags
from kefu.analysis.manifest import Manifest, input_fingerprints
from kefu.config import MetricParams
from kefu.ingest import Dataset, LoadResult, RowError, load_dir
from kefu.ingest.load import ProgressCallback
from kefu.metrics import MetricsResult
from kefu.metrics.clock import with_option_columns
from kefu.metrics.engine import build_context, collect, connect, for_period
from kefu.metrics.evidence import evidence_rows
from kefu.metrics.filters import apply_filters, empty_report, report_for
from kefu.options import AnalysisOptions
from kefu.scoring.evaluate import Evaluation, evaluate
from kefu.scoring.reported import FilledSource, folder_source, has_messages
from kefu.scoring.results import TrainingReport, training_report
from kefu.scoring.scheme import Scheme, load_scheme
from kefu.scoring.sources import DatasetSource, Manual, Source, load_history, load_manual
from kefu.scoring.whatif import Comparison, whatif

History = dict[tuple[dt.date, dt.date], dict[str, Any]]


# Metric parameters the cluster path does not apply yet (business clock, day cut,
# caps, payment basis, transfers' credit, reception filters, attendance grace).
SHOP_SETTINGS = tuple(
    name for name in MetricParams.model_fields
    if name not in ("session_gap_min", "response_target_s", "conversion_window_days",
                    "repeat_window_h", "tz"))


class Analysis:
    """Load once, build the facts once, answer many questions (see module doc)."""

    def __init__(
        self,
        data: Path | Dataset,
        options: AnalysisOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.options = options or AnalysisOptions.model_validate({})
        self.warnings: list[str] = []
        self.skipped: list[RowError] = []
        self.lexicon_version: str | None = None
        self._con: Any = None
        self.on_cluster = False
        self._memo: dict[tuple[dt.date, dt.date], MetricsResult] = {}
        self._variants: dict[str, Analysis] = {}
        self.loaded: Dataset | None = None  # as read, before any reception filter
        self.filtered: pa.Table = empty_report()
        reported = folder_source(data, self.options.tz) if isinstance(data, Path) else None
        if isinstance(data, Path):
            self.data_path: Path | None = data
            self.inputs: dict[str, list[dict[str, Any]]] = input_fingerprints(data)
        else:
            self.data_path, self.inputs = None, {}
        if reported is not None and isinstance(data, Path) and not has_messages(data):
            # a workspace holding only a platform's KPI report: its values, no facts
            self.dataset: Dataset | None = None
            self.source: Source = reported
            return
        if isinstance(data, Path) and self.options.reads_on_cluster:
            self._build_on_cluster(data)
        else:
            self.loaded = data if isinstance(data, Dataset) else self._loaded(data, progress)
            # reception filters (default: none); every removed row is kept with its reason
            self.dataset, self.filtered = apply_filters(self.loaded, self.options.params)
            self._build_facts()
        assert self.dataset is not None
        computed = DatasetSource(
            self.dataset, self.options.params, qa=self.options.qa,
            compute=lambda _dataset, start, end, *_a, keys=None, **_k: self._computed(
                start, end, keys),
        )
        self.source = FilledSource(computed, reported) if reported is not None else computed

    def _loaded(self, data: Path, progress: ProgressCallback | None) -> Dataset:
        loaded = self._load(data, progress)
        self.warnings += loaded.warnings
        self.skipped += loaded.skipped
        return loaded.dataset

    def _build_facts(self) -> None:
        assert self.dataset is not None
        flags: pa.Table | None = None
        if self.options.qa:
            flags, self.lexicon_version = checked_flags(
                self.dataset.messages, self.options.lexicons, self.data_path
            )
        elif "content" in self.dataset.messages.column_names:
            # the text is only read by the checks, the filters (done) and the transfer
            # marks (system messages): free the rest before the heavy part
            flags = with_option_columns(None, self.dataset.messages, self.options.params)
            both = (self.dataset,) if self.loaded is self.dataset else (self.dataset, self.loaded)
            for held in both:
                if held is not None:
                    held.messages = _system_text_only(held.messages)
        self._con = connect(self.options.engine)
        try:
            self._context = build_context(
                self._con, self.dataset, self.options.params, qa=self.options.qa, flags=flags
            )
        except BaseException:
            self.close()
            raise

    def _build_on_cluster(self, data: Path) -> None:
        """Spark on a shop on disk: the cluster reads, validates and computes (the data
        never passes through this process; kefu.ingest.spark_reader, metrics.spark_inputs)."""
        from kefu.ingest.load import check_allow_empty, check_tz, resolve_profile
        from kefu.ingest.spark_reader import load_spark
        from kefu.metrics.spark import connect_spark
        from kefu.metrics.spark_inputs import build_spark_context, summary_dataset

        o = self.options
        shop_settings = sorted(
            name for name in SHOP_SETTINGS
            if getattr(o.params, name) != MetricParams.model_fields[name].default)
        if shop_settings:
            raise ValueError(
                "--engine spark reads the data on the cluster, where these settings are "
                f"not applied yet: {', '.join(shop_settings)}; run them on the embedded "
                "engine (or local Spark)")
        if o.qa:
            raise ValueError(
                "--engine spark reads the data on the cluster, where the automatic text "
                "checks do not run yet: pass --no-qa (the quality metrics are then null)")
        check_tz(o.tz)
        self._con = connect_spark(o.spark_master, o.spark_driver_memory,
                                  o.spark_executor_memory, o.spark_partitions)
        try:
            shop = load_spark(self._con._session, o.spark_input or data, o.tz,
                              o.skip_bad_rows, resolve_profile(o.profile),
                              check_allow_empty(o.allow_empty))
            self.warnings += shop.warnings
            self.skipped += shop.skipped
            if not self.inputs:  # a URL: names and sizes as the cluster lists them
                for file in shop.files:
                    self.inputs.setdefault(file.table, []).append(
                        {"file": file.source, "sha256": None, "bytes": file.size})
            self._context = build_spark_context(self._con, shop, o.params)
            self.dataset = summary_dataset(shop)
        except BaseException:
            self.close()
            raise
        self.on_cluster = True

    def _load(self, data: Path, progress: ProgressCallback | None) -> LoadResult:
        return load_dir(
            data,
            tz=self.options.tz,
            skip_bad_rows=self.options.skip_bad_rows,
            profile=self.options.profile,
            progress=progress,
            allow_empty=self.options.allow_empty,
        )

    # --- answers ----------------------------------------------------------------

    def metrics(self, start: dt.date, end: dt.date) -> MetricsResult:
        """Every metric per agent, team and shop for the days start..end (memoised)."""
        if (start, end) not in self._memo:
            result = self.source.metrics(start, end)
            result.manifest = self.manifest(start, end).to_json_dict()
            self._memo[(start, end)] = result
        return self._memo[(start, end)]

    def _computed(
        self, start: dt.date, end: dt.date, keys: frozenset[str] | None = None
    ) -> MetricsResult:
        assert self.dataset is not None
        return collect(for_period(self._context, start, end), self.dataset,
                       qa=self.options.qa, keys=keys)

    def evidence(
        self, metric: str, start: dt.date, end: dt.date, agent_id: str | None = None
    ) -> pa.Table:
        """The rows behind ``metric`` (for one agent or all) — the same facts as metrics()."""
        if self.dataset is None:
            raise ValueError("the data holds a platform's KPI report only: reported values "
                             "have no rows behind them")
        if self.on_cluster:
            raise ValueError("evidence rows are not read back from a Spark cluster yet: "
                             "use --engine duckdb for kefu evidence")
        return evidence_rows(for_period(self._context, start, end), self.dataset, metric, agent_id)

    def filtered_rows(
        self, start: dt.date, end: dt.date, agent_id: str | None = None
    ) -> pa.Table:
        """The rows the reception filters removed on days start..end, with the reason."""
        return report_for(self.filtered, start, end, agent_id)

    def evaluate(
        self,
        scheme: Scheme | Path | str,
        start: dt.date,
        end: dt.date,
        manual: Manual | Path | None = None,
        history: History | Path | None = None,
    ) -> Evaluation:
        """The scheme applied to start..end: points, totals, grades, ranks, pay, plans."""
        sch = _scheme(scheme)
        man, hist = _manual(manual), _history(history)
        ev = evaluate(self._source_for(sch), sch, start, end, man, hist)
        ev.warnings = self.warnings + ev.warnings
        ev.manifest = self.manifest(start, end, sch, man, history).to_json_dict()
        return ev

    def _source_for(self, scheme: Scheme) -> Source:
        """The metrics a scheme reads: this session's, or, when the scheme sets its own
        metric options (``params:``), a session on the same data with those options."""
        if not scheme.params or self.loaded is None:
            return self.source
        options = AnalysisOptions.model_validate({**self.options.model_dump(), **scheme.params})
        if options == self.options:
            return self.source
        text_filters = ("secret_phrases", "filter_empty_chats")
        if not self.options.qa and any(
            getattr(options, k) != getattr(self.options, k) for k in text_filters
        ):
            raise ValueError(f"scheme {scheme.name}: params set a text filter "
                             f"({', '.join(text_filters)}), which needs the message text: "
                             "run with the quality checks on, or set it on the command")
        key = json.dumps(scheme.params, sort_keys=True, default=str)
        if key not in self._variants:
            self._variants[key] = Analysis(self.loaded, options)
        return self._variants[key].source

    def whatif(
        self,
        scheme_a: Scheme | Path | str,
        scheme_b: Scheme | Path | str,
        start: dt.date,
        end: dt.date,
        manual: Manual | Path | None = None,
        history: History | Path | None = None,
    ) -> Comparison:
        """Both schemes on the same facts: rank and grade changes, pay difference."""
        a, b = _scheme(scheme_a), _scheme(scheme_b)
        out = whatif(self._source_for(a), a, b, start, end, _manual(manual), _history(history),
                     source_b=self._source_for(b))
        out.warnings = self.warnings + out.warnings
        out.manifest = self.manifest(start, end).to_json_dict()
        return out

    def training(
        self,
        scheme: Scheme | Path | str,
        start: dt.date,
        end: dt.date,
        manual: Manual | Path | None = None,
        history: History | Path | None = None,
    ) -> TrainingReport:
        """Each agent's training plan and the follow-up of last period's plan."""
        return training_report(self.evaluate(scheme, start, end, manual, history))

    def manifest(
        self,
        start: dt.date,
        end: dt.date,
        scheme: Scheme | None = None,
        manual: Manual | None = None,
        history: History | Path | None = None,
    ) -> Manifest:
        """What a result was computed from: enough to compute it again (kefu.manifest)."""
        return Manifest.of(
            self.options, start, end, self.inputs, self.lexicon_version, scheme, manual,
            history if isinstance(history, Path) else None,
        )

    # --- life cycle ---------------------------------------------------------------

    def close(self) -> None:
        for variant in getattr(self, "_variants", {}).values():
            variant.close()
        con, self._con = getattr(self, "_con", None), None
        if con is not None:
            con.disconnect()

    def __enter__(self) -> Analysis:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _system_text_only(messages: pa.Table) -> pa.Table:
    """The messages with text kept for system messages only (transfer marks)."""
    import pyarrow.compute as pc

    index = messages.column_names.index("content")
    system = pc.fill_null(pc.equal(messages.column("sender"), "system"), False).combine_chunks()
    texts = pc.take(messages.column("content"), pc.indices_nonzero(system)).combine_chunks()
    # replace_with_mask sizes the text buffer to the system texts; if_else kept a
    # buffer as large as all texts (~340 MB at 10M messages) alive
    text_type = messages.schema.field("content").type
    kept = pc.replace_with_mask(pa.nulls(messages.num_rows, text_type), system, texts)
    return messages.set_column(index, "content", kept)


def _scheme(scheme: Scheme | Path | str) -> Scheme:
    return scheme if isinstance(scheme, Scheme) else load_scheme(scheme)


def _manual(manual: Manual | Path | None) -> Manual | None:
    return load_manual(manual) if isinstance(manual, Path) else manual


def _history(history: History | Path | None) -> History | None:
    return load_history(history) if isinstance(history, Path) else history


def rederive(manifest: dict[str, Any], data: Path) -> MetricsResult | Evaluation:
    """Compute a stored result again from its manifest and the same data.

    Raises ValueError when an input or the lexicons no longer match the manifest,
    so a re-derived number is never silently a different one.
    """
    stored = Manifest.from_json_dict(manifest)
    options = AnalysisOptions.model_validate(stored.options)
    with Analysis(data, options) as analysis:
        stored.check_same_inputs(analysis.inputs, analysis.lexicon_version)
        if stored.scheme is None:
            return analysis.metrics(stored.start, stored.end)
        history = Path(stored.history) if stored.history else None
        return analysis.evaluate(
            stored.scheme_object(), stored.start, stored.end, stored.manual, history
        )
