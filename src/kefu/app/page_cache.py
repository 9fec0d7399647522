"""Rendered responses of pages that cannot change, kept per process (a bounded LRU).

A page of a published or superseded run version (dashboards, agent page, report card,
chart data, XLSX exports) is the same bytes for the same reader as long as the run
version is the same; a drill-down page (evidence, chats) also as long as the workspace's
files are the same. Such a response is kept under a key naming everything that changes
its bytes:

- the database and the run version (id, version, status and its instants);
- the path and the whole query string, the language, whether htmx asked for a part;
- the reader: user id, name and display name, roles and links (a change to any of them
  is a new key, so a user never gets bytes made for a different scope, and no two users
  share an entry);
- for drill-down, the workspace generation (its files' names, sizes and times).

A new run version or a new workspace generation is a new key: nothing is invalidated,
old entries age out of the LRU. Drafts (recomputable) are never kept.

The worker processes of ``kefu serve --workers N`` share a second tier on disk (a
folder beside the app database, ``share_in``): a page one worker rendered is read by
the others instead of rendered again (a dashboard's first view at 10M messages cost
~200 ms of CPU, a file read ~0.1 ms) and survives a restart. A file is named by the
SHA-256 of its key and holds the key itself, checked on reading, so a file can only
answer the exact key it was made for. The folder is pruned to ``DISK_BYTES``.

The cache sits *after* the permission checks: a handler runs every lookup of
permissions.py first (they raise NotFound), and only then asks for the kept bytes.
The session's CSRF token is not part of the kept bytes: a page is rendered with
``CSRF_MARK`` in its place and the token of the request's session is put in when served.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kefu.app.deps import Signed, get_lang, wants_fragment
from kefu.app.models import Run, User
from kefu.app.stored_runs import IMMUTABLE

CACHE_BYTES = 64 * 1024 * 1024
"""Kept response bytes per process; the least recently used go first."""
CACHE_HEADER = "X-Kefu-Page-Cache"
"""``hit`` (kept by this process), ``shared`` (read from the shared folder) or ``miss``
(rendered) on every response this cache served (the benchmark reads it)."""
CSRF_MARK = f"kefu-csrf-{secrets.token_hex(16)}"
"""Stands for the session's CSRF token in kept bytes (random per process: no page text
can hold it by chance)."""

DISK_BYTES = 512 * 1024 * 1024
"""Kept response bytes in the shared folder; the least recently written go first."""
_PRUNE_EVERY = 200
"""Writes between two looks at the shared folder's size."""

_KEPT_HEADERS = ("content-disposition",)

Key = tuple[Any, ...]
Render = Callable[[str], Response]
"""Makes the response; its argument is the CSRF token the page must carry."""


@dataclass(frozen=True)
class Kept:
    body: bytes
    status: int
    media_type: str | None
    headers: tuple[tuple[str, str], ...]
    mark: str
    """The stand-in for the CSRF token in ``body`` (each process draws its own)."""

    @classmethod
    def of(cls, response: Response, mark: str) -> Kept:
        """The response of a page rendered with ``mark`` in place of the CSRF token."""
        headers = tuple((k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS)
        return cls(bytes(response.body), response.status_code,
                   response.headers.get("content-type"), headers, mark)

    def response(self, csrf: str, state: str) -> Response:
        body = self.body
        if (self.media_type or "").startswith("text/html"):
            body = body.replace(self.mark.encode(), csrf.encode())
        headers = {**dict(self.headers), CACHE_HEADER: state}
        return Response(body, status_code=self.status, headers=headers,
                        media_type=self.media_type)


_CACHE: OrderedDict[Key, Kept] = OrderedDict()
_HELD = [0]
_LOCK = threading.Lock()
_BUSY: dict[Key, threading.Lock] = {}
"""One lock per key being rendered: a page many readers open at once is rendered once."""


def reader(user: User) -> tuple[Any, ...]:
    """Everything of the user that a page may depend on (scope, roles, names)."""
    return (user.id, user.username, user.display_name,
            tuple(sorted(r.role for r in user.roles)),
            tuple(sorted((link.kind, link.value) for link in user.links)))


def run_version(run: Run) -> tuple[Any, ...] | None:
    """The run version's identity, or None for a run that may still change (drafts)."""
    if run.status not in IMMUTABLE:
        return None
    session = Session.object_session(run)
    bind = str(session.get_bind().engine.url) if session is not None else ""
    return (bind, run.id, run.version, str(run.status), run.created_at, run.published_at)


def page_key(request: Request, user: User, run: Run,
             generation: tuple[Any, ...] | None = None) -> Key | None:
    """The key of this request's page, or None when it must not be kept."""
    version = run_version(run)
    if version is None:
        return None
    query = tuple(sorted(request.query_params.multi_items()))
    return (version, request.url.path, query, get_lang(request),
            wants_fragment(request), reader(user), generation)


_SHARED: list[Path | None] = [None]
_WRITES = [0]


def share_in(folder: Path | None) -> None:
    """Share kept pages with the other processes through ``folder`` (None: this process
    only). Called by the app at start; every worker of one server names the same folder."""
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    _SHARED[0] = folder


def _file_of(key: Key) -> Path | None:
    folder = _SHARED[0]
    if folder is None:
        return None
    return folder / f"{hashlib.sha256(repr(key).encode()).hexdigest()}.page"


def _read_shared(key: Key) -> Kept | None:
    path = _file_of(key)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None  # not there (or pruned meanwhile): render
    head, _, body = data.partition(b"\n")
    meta = json.loads(head)
    if meta["key"] != repr(key):
        return None  # a different page under the same hash: never served
    return Kept(body, meta["status"], meta["media_type"],
                tuple((k, v) for k, v in meta["headers"]), meta["mark"])


def _write_shared(key: Key, kept: Kept) -> None:
    path = _file_of(key)
    if path is None:
        return
    meta = {"key": repr(key), "status": kept.status, "media_type": kept.media_type,
            "headers": kept.headers, "mark": kept.mark}
    # written whole under a temporary name, then renamed: a reader sees all or nothing
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        out.write(json.dumps(meta, ensure_ascii=False).encode() + b"\n" + kept.body)
    os.replace(temporary, path)
    _WRITES[0] += 1
    if _WRITES[0] % _PRUNE_EVERY == 0:
        _prune(path.parent)


def _prune(folder: Path) -> None:
    """Remove the oldest files until the folder holds at most DISK_BYTES."""
    files = []
    for entry in os.scandir(folder):
        if entry.name.endswith(".page"):
            stat = entry.stat()
            files.append((stat.st_mtime, stat.st_size, entry.path))
    total = sum(size for _, size, _ in files)
    for _, size, name in sorted(files):
        if total <= DISK_BYTES:
            break
        with contextlib.suppress(OSError):
            os.remove(name)
        total -= size


def _get(key: Key) -> tuple[Kept, str] | None:
    """The kept page and where it was found: ``hit`` (this process) or ``shared``."""
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found, "hit"
    shared = _read_shared(key)
    if shared is None:
        return None
    _keep(key, shared)
    return shared, "shared"


def _keep(key: Key, kept: Kept) -> None:
    size = len(kept.body)
    if size > CACHE_BYTES // 4:
        return  # one huge export would push out everything else
    with _LOCK:
        old = _CACHE.pop(key, None)
        _HELD[0] += size - (len(old.body) if old is not None else 0)
        _CACHE[key] = kept
        while _HELD[0] > CACHE_BYTES and _CACHE:
            _HELD[0] -= len(_CACHE.popitem(last=False)[1].body)


def serve(request: Request, signed: Signed, run: Run, render: Render,
          generation: tuple[Any, ...] | None = None) -> Response:
    """The kept response of this page, or ``render`` it (and keep it when it may be).

    Call only after every permission check of the page passed."""
    key = page_key(request, signed.user, run, generation)
    token = signed.session.csrf_token
    if key is None:
        return render(token)
    found = _get(key)
    if found is not None:
        return found[0].response(token, found[1])
    with _LOCK:
        busy = _BUSY.setdefault(key, threading.Lock())
    try:
        with busy:  # a second reader of the same page waits for the first one's bytes
            found = _get(key)
            if found is not None:
                return found[0].response(token, found[1])
            mark = CSRF_MARK
            kept = Kept.of(render(mark), mark)
            if kept.status == 200:
                _keep(key, kept)
                _write_shared(key, kept)
    finally:
        with _LOCK:
            _BUSY.pop(key, None)
    return kept.response(token, "miss")


def held() -> tuple[int, int]:
    """(entries, bytes) kept in this process."""
    with _LOCK:
        return len(_CACHE), _HELD[0]


def clear() -> None:
    """Forget every kept page, in this process and in the shared folder."""
    with _LOCK:
        _CACHE.clear()
        _HELD[0] = 0
    folder = _SHARED[0]
    if folder is not None and folder.is_dir():
        for path in folder.glob("*.page"):
            with contextlib.suppress(OSError):
                path.unlink()
