"""The distributed engine: the same Ibis definitions, run by Apache Spark.

Needs the optional dependency ``pyspark`` (``pip install 'kefu[spark]'``) and a
Java runtime.  The analysis options spark_master, spark_driver_memory,
spark_executor_memory and spark_partitions (``KEFU_SPARK_MASTER`` …) configure it.
A Dataset given by code reaches Spark as Parquet in a local temporary folder
(register_arrow: local mode only); a shop on disk is read by the cluster itself
(kefu.ingest.spark_reader, kefu.metrics.spark_inputs).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def connect_spark(
    master: str | None = None,
    driver_memory: str | None = None,
    executor_memory: str | None = None,
    partitions: int | None = None,
) -> Any:
    """An Ibis backend over a Spark session with these settings (a running session with
    another master is stopped first; driver memory only applies to a new JVM)."""
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ValueError(
            "--engine spark needs pyspark and Java: pip install 'kefu[spark]'"
        ) from exc
    master = master or os.environ.get("KEFU_SPARK_MASTER", "local[*]")
    running = SparkSession.getActiveSession()
    if running is not None and running.sparkContext.master != master:
        running.stop()
    builder = (
        SparkSession.builder.appName("kefu")
        .master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="kefu-spark-warehouse-"))
        .config("spark.sql.session.timeZone", "UTC")
        # the facts' plans are long (each cached fact repeats its lineage): Spark builds
        # their full text for every adaptive re-plan, which alone filled a 512 MB driver
        .config("spark.sql.maxPlanStringLength", "20000")
        .config("spark.sql.shuffle.partitions",
                str(partitions or os.environ.get("KEFU_SPARK_PARTITIONS", "8")))
    )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    if executor_memory:
        builder = builder.config("spark.executor.memory", executor_memory)
    session = builder.getOrCreate()
    session.conf.set("spark.sql.shuffle.partitions",
                     str(partitions or os.environ.get("KEFU_SPARK_PARTITIONS", "8")))
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


_staging: list[tempfile.TemporaryDirectory[str]] = []


def register_arrow(con: Any, name: str, table: pa.Table) -> Any:
    """Hand an Arrow table to Spark through a Parquet file (exact types, nulls kept)."""
    if not _staging:
        _staging.append(tempfile.TemporaryDirectory(prefix="kefu-spark-"))
    path = Path(_staging[0].name) / f"{name}.parquet"
    pq.write_table(table, path)
    return con.read_parquet(str(path), table_name=name)
