"""Where facts live: a workspace folder of typed Parquet files (see workspace.py)."""

from kefu.store.privacy import Privacy
from kefu.store.workspace import ImportReport, Workspace

__all__ = ["ImportReport", "Privacy", "Workspace"]
