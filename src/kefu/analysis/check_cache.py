"""The automatic checks, run once per distinct text and kept in a workspace.

A workspace (``kefu import``) keeps ``.kefu/checks/<version>.parquet``: one row
per distinct (role, text) with its check flags, keyed by the text's MD5. The
version is a hash of kefu's version, the lexicons (built-in plus the shop's
overrides), the sentiment model and the flag names, so a changed lexicon or a
new kefu never reuses an old verdict. A plain export folder is not written to:
there the checks run once per distinct text for the session only.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import kefu
from kefu.ingest.manifest import manifest_path
from kefu.metrics.quality import FLAGS, checked_roles, message_flags, with_context
from kefu.qa import Lexicons, flag_messages, load_lexicons

CACHE_DIR = Path(".kefu") / "checks"
_MODEL = Path(kefu.__file__).parent / "qa" / "models" / "sentiment.npz"


def lexicon_version(lexicons: Lexicons) -> str:
    """What decides a verdict: kefu, the phrases and exceptions, the model, the flags."""
    digest = hashlib.sha256()
    digest.update(f"kefu {kefu.__version__}\n{','.join(FLAGS)}\n".encode())
    if _MODEL.exists():
        digest.update(hashlib.sha256(_MODEL.read_bytes()).digest())
    for kind, lists in (("phrase", lexicons.phrases), ("exception", lexicons.exceptions)):
        for check in sorted(lists):
            for phrase in sorted(lists[check]):
                digest.update(f"{kind}\t{check}\t{phrase}\n".encode())
    return digest.hexdigest()[:20]


def is_workspace(folder: Path | None) -> bool:
    """A folder written by ``kefu import`` (it holds the workspace's manifest)."""
    return folder is not None and manifest_path(folder).is_file()


def checked_flags(
    messages: pa.Table, lexicon_dir: Path | None, data: Path | None
) -> tuple[pa.Table, str]:
    """The qa_* flag columns of every message (metrics.quality) and the lexicon version."""
    lexicons = load_lexicons(lexicon_dir)
    version = lexicon_version(lexicons)
    if not is_workspace(data):
        return message_flags(messages, lexicons), version
    assert data is not None
    return cached_flags(messages, lexicons, data / CACHE_DIR / f"{version}.parquet"), version


def cached_flags(messages: pa.Table, lexicons: Lexicons, store: Path) -> pa.Table:
    """message_flags, reading per-text verdicts from ``store`` and adding the new ones.

    Work is per distinct (role, text): the texts are dictionary-encoded once, only
    the distinct ones are hashed, looked up and (when new) checked, and the
    verdicts are spread back to every message with one take.
    """
    human, checked = checked_roles(messages)
    texts = pc.fill_null(messages.column("content"), "").combine_chunks().dictionary_encode()
    pair = (_numpy(texts.indices).astype(np.int64) * 2 + _numpy(human).astype(np.int64))
    distinct = pa.array(pair).dictionary_encode()
    codes = _numpy(distinct.dictionary)
    unique = pa.table({
        "pos": pa.array(np.arange(len(codes), dtype=np.int64)),
        "human": pa.array(codes % 2 == 1),
        "content": texts.dictionary.take(pa.array(codes // 2)),
    })
    con = duckdb.connect()
    try:
        con.register("u", unique)
        # the role is part of the key: the same words are judged differently per role
        con.execute("""
            CREATE TEMP TABLE keyed AS
            SELECT pos, human, content,
                   md5_number_upper(human::VARCHAR || content) AS hi,
                   md5_number_lower(human::VARCHAR || content) AS lo
            FROM u""")
        known = _read(store)
        _load_known(con, known)
        missing = _arrow(con.execute("""
            SELECT hi, lo, human, content FROM keyed
            WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.hi = keyed.hi AND k.lo = keyed.lo)
        """))
        if missing.num_rows:
            fresh = flag_messages(missing.column("content"), missing.column("human"), lexicons)
            added = pa.table({"hi": missing.column("hi"), "lo": missing.column("lo"),
                              **{f"qa_{n}": fresh.column(n) for n in FLAGS}})
            known = pa.concat_tables([known, added.cast(known.schema)])
            _write(store, known)
            _load_known(con, known)
        columns = ", ".join(f"coalesce(k.qa_{n}, false) AS qa_{n}" for n in FLAGS)
        per_distinct = _arrow(con.execute(
            f"SELECT {columns} FROM keyed LEFT JOIN known k USING (hi, lo) ORDER BY pos"))
    finally:
        con.close()
    per_message = per_distinct.take(distinct.indices)
    per_text = pa.table({name: pc.and_(per_message.column(name), checked)
                         for name in per_message.column_names})
    # the cache holds per-text verdicts; the conversation rule runs every time
    return with_context(per_text, messages)


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, Any]:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _load_known(con: duckdb.DuckDBPyConnection, known: pa.Table) -> None:
    """The stored verdicts as a DuckDB table, not an Arrow scan: DuckDB pushes
    join filters into Arrow scans as pyarrow expressions, and an md5 half above
    2**63 then fails ("Python int too large to convert to C long") on small inputs."""
    con.register("known_arrow", known)
    con.execute("CREATE OR REPLACE TEMP TABLE known AS SELECT * FROM known_arrow")
    con.unregister("known_arrow")


def _schema() -> pa.Schema:
    return pa.schema([("hi", pa.uint64()), ("lo", pa.uint64()),
                      *[(f"qa_{n}", pa.bool_()) for n in FLAGS]])


def _read(store: Path) -> pa.Table:
    if store.exists():
        try:
            table = pq.read_table(store)
            if table.schema.equals(_schema()):
                return table
        except (OSError, pa.ArrowException):
            pass  # a damaged cache is only a cache: the checks run again
    return _schema().empty_table()


def _write(store: Path, table: pa.Table) -> None:
    """Whole file, then an atomic rename: a reader never sees half a cache."""
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        partial = store.with_suffix(".parquet.partial")
        pq.write_table(table, partial)
        os.replace(partial, store)
    except OSError:
        pass  # a read-only workspace still answers; it just checks again next time


def _arrow(result: duckdb.DuckDBPyConnection) -> pa.Table:
    """A query's rows as one Arrow table (the method's name changed in DuckDB 1.5)."""
    to_table = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    table: pa.Table = to_table()
    return table
