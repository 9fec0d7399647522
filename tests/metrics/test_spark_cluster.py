"""Spark at platform scale: a real standalone cluster on loopback reads the shop itself.

A master and two workers (1 core, 1 GB each, their own work folders) are started from
the installed PySpark; kefu runs against spark://127.0.0.1:PORT with a 512 MB driver,
reads the Parquet exports where they lie, validates and computes inside the cluster,
and must give DuckDB's numbers. The cluster is stopped after the module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from kefu.analysis import Analysis, analysis_options
from kefu.ingest import IngestError, load_dir

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="the Spark cluster tests need pyspark (pip install 'kefu[spark]') and a Java runtime",
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from loopback_cluster import loopback_cluster  # noqa: E402

START, END = "2024-06-01", "2024-06-30"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """spark://127.0.0.1:PORT of a master with two registered workers; stopped after."""
    with loopback_cluster(tmp_path_factory.mktemp("spark-cluster"), workers=2) as url:
        yield url


@pytest.fixture(scope="module")
def parquet_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop (about 60k messages) written as Parquet exports with text columns."""
    base = tmp_path_factory.mktemp("shop")
    subprocess.run([sys.executable, "-m", "kefu.cli", "demo", "--out", str(base / "csv"),
                    "--force"], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    out = base / "parquet"
    out.mkdir()
    for file in sorted((base / "csv").glob("*.csv")):
        table = pacsv.read_csv(file, convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False))
        pq.write_table(pa.table({c: table.column(c).cast(pa.string())
                                 for c in table.column_names}), out / f"{file.stem}.parquet")
    return out


def kefu_metrics(data: Path, *flags: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "kefu.cli", "metrics", "--data", str(data), "--start", START,
         "--end", END, "--no-qa", *flags],
        check=True, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_loopback_cluster_with_a_small_driver_equals_duckdb(
    cluster: str, parquet_shop: Path
) -> None:
    on_duckdb = kefu_metrics(parquet_shop)
    on_cluster = kefu_metrics(parquet_shop, "--engine", "spark", "--spark-master", cluster,
                              "--spark-driver-memory", "512m",
                              "--spark-executor-memory", "768m", "--spark-partitions", "4")
    for level in ("agents", "teams", "shops"):
        assert on_cluster[level] == on_duckdb[level]
    # the shifts table is read on the cluster too: late starts are counted there
    late = [a["late_starts"] for a in on_cluster["agents"].values()]  # type: ignore[attr-defined]
    assert None not in late and sum(late) > 0
    assert len(on_duckdb["agents"]) > 10  # type: ignore[arg-type]
    options = on_cluster["manifest"]["options"]  # type: ignore[index]
    assert options["spark_master"] == cluster and options["engine"] == "spark"


def _bad_exports(folder: Path) -> Path:
    folder.mkdir()
    pq.write_table(pa.table({
        "agent_id": ["s:a", "s:b"], "shop_id": ["s", "s"], "role": ["presale", "售后"],
    }), folder / "agents.parquet")
    pq.write_table(pa.table({
        "agent_id": ["s:a", "s:a", "s:zz", "s:b", "s:b"],
        "buyer_id": ["u1", "u1", "u2", "", "u3"],
        "sender": ["buyer", "客服", "buyer", "buyer", "robot"],
        "sent_at": ["2024-06-01 10:00:00", "2024/6/1 10:01", "2024-06-01 10:02",
                    "2024-06-01", "2024-13-01 10:00"],
    }), folder / "messages.parquet")
    pq.write_table(pa.table({
        "order_id": ["o1", "o2", "o1"], "buyer_id": ["u1", "u1", "u1"],
        "created_at": ["2024-06-01 12:00", "2024-06-01 12:00", "2024-06-01 12:00"],
        "amount": ["¥1,299.00", "299,00", "5"],
    }), folder / "orders.parquet")
    return folder


def test_bad_rows_are_reported_as_the_embedded_engine_does(tmp_path: Path) -> None:
    folder = _bad_exports(tmp_path / "shop")
    with pytest.raises(IngestError) as embedded:
        load_dir(folder)
    # a shared input location: the Spark reader (not kefu) reads, checks and reports
    options = analysis_options(engine="spark", qa=False, spark_master="local[1]",
                               spark_input=str(folder))
    assert options.reads_on_cluster
    with pytest.raises(IngestError) as cluster:
        Analysis(folder, options)
    assert sorted(cluster.value.errors, key=str) == sorted(embedded.value.errors, key=str)
    reasons = {(e.file, e.line, e.column, e.reason) for e in cluster.value.errors}
    assert ("messages.parquet", 3, "agent_id", "agent_id not in agents") in reasons
    assert ("messages.parquet", 4, "sent_at",
            "a date without a time of day (a timestamp needs at least HH:MM)") in reasons
    assert ("orders.parquet", 3, "order_id",
            "duplicate order_id with different content (first on row 1)") in reasons
