"""The distributed engine: the same Ibis definitions, run by Apache Spark.

Needs the optional dependency ``pyspark`` (``pip install 'kefu[spark]'``) and a
Java runtime.  ``KEFU_SPARK_MASTER`` chooses the cluster (default ``local[*]``);
inputs reach Spark as Parquet, which keeps nulls and integer types exact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def connect_spark() -> Any:
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ValueError(
            "--engine spark needs pyspark and Java: pip install 'kefu[spark]'"
        ) from exc
    session = (
        SparkSession.builder.appName("kefu")
        .master(os.environ.get("KEFU_SPARK_MASTER", "local[*]"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="kefu-spark-warehouse-"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("KEFU_SPARK_PARTITIONS", "8"))
        .getOrCreate()
    )
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
