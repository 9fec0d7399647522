"""Ingest: exports (CSV, XLSX, Parquet, JSON Lines) → validated canonical tables.

    load_dir(folder) / load_records(dicts) → LoadResult(dataset, skipped, warnings)

Bad rows raise IngestError (nothing loaded) unless skip_bad_rows is set.
"""

from kefu.ingest.dataset import Dataset
from kefu.ingest.errors import IngestError, RowError
from kefu.ingest.load import LoadResult, discover, load_dir, load_records, table_for_file
from kefu.ingest.profile import MappingProfile, load_profile

__all__ = [
    "Dataset",
    "IngestError",
    "LoadResult",
    "MappingProfile",
    "RowError",
    "discover",
    "load_dir",
    "load_profile",
    "load_records",
    "table_for_file",
]
