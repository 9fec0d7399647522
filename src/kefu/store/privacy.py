"""Personal data in a workspace: pseudonymous buyer ids and masked text (data.md).

A pseudonym is a keyed hash (HMAC-SHA256) of the buyer id with a key kept in
the workspace (``.kefu-key``), so the same buyer gets the same pseudonym in
every table and every import (chats still meet orders), while nobody without
the key can turn a pseudonym back into a nickname or run a dictionary of
nicknames against it.  Masking replaces phone numbers, ID-card numbers, e-mail
addresses and street addresses inside message text and rating comments
(kefu.qa.mask_pii); text keeps its length.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

KEY_FILE = ".kefu-key"
PSEUDONYM_PREFIX = "买家#"
TEXT_COLUMNS = {"messages": ("content",), "ratings": ("comment",)}


@dataclass(frozen=True)
class Privacy:
    pseudonymise_buyers: bool = False
    mask_text: bool = False

    @property
    def active(self) -> bool:
        return self.pseudonymise_buyers or self.mask_text


NO_PRIVACY = Privacy()


def workspace_key(folder: Path) -> bytes:
    """The workspace's secret key, created (readable by the owner only) on first use."""
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def pseudonym(buyer_id: str, key: bytes) -> str:
    digest = hmac.new(key, buyer_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:16]


def _map_distinct(values: pa.ChunkedArray, change: object) -> pa.ChunkedArray:
    """Apply ``change`` once per distinct value (exports repeat ids and canned text)."""
    encoded = values.combine_chunks().dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    changed = pa.array([None if v is None else change(v) for v in distinct],  # type: ignore[operator]
                       pa.string())
    return pa.chunked_array([pc.take(changed, encoded.indices)])


def protect(rows: pa.Table, table: str, privacy: Privacy, key: bytes | None) -> pa.Table:
    """The rows with buyer ids pseudonymised and/or text masked, as asked."""
    if privacy.pseudonymise_buyers and "buyer_id" in rows.column_names:
        assert key is not None
        index = rows.column_names.index("buyer_id")
        rows = rows.set_column(index, "buyer_id", _map_distinct(
            rows.column("buyer_id"), lambda v: pseudonym(v, key) if v else v
        ))
    if privacy.mask_text:
        from kefu.qa import mask_pii

        for name in TEXT_COLUMNS.get(table, ()):
            if name in rows.column_names:
                index = rows.column_names.index(name)
                rows = rows.set_column(index, name, _map_distinct(rows.column(name), mask_pii))
    return rows
