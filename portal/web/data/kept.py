"""Open-data downloads kept on disk, so that the next reader gets a file instead of a query.

A province's whole daily dataset is tens of megabytes and seconds of CPU to write; readers
(harvesters, journalists, the DPRD's staff) ask for the same few files. The first download
of an address is streamed as it is read and written, beside the stream, to a temporary file
that becomes the kept copy only once every row is written (a reader who leaves half-way
leaves nothing behind). Later readers get that file while its key holds: the address with
its query string, the public data version, the WIB date and the Link header. A dataset the
data version does not watch (daily figures, feedback) is reused only while younger than the
time its answer lets any cache reuse it (``Cache-Control: max-age``), so a reader never gets
older rows from the portal than a proxy could have given. Nothing is kept while the page
cache is off (``PORTAL_PAGE_CACHE_SECONDS=0``), so an uncached benchmark stays uncached.

Each file is kept with a gzip copy written beside it as it streams, sent as it is to a reader
who accepts gzip: a kept download then costs what a static file costs, not a compression of
megabytes per reader. The files live in ``PORTAL_DOWNLOAD_CACHE_DIR`` (shared by every
worker of a server); the newest ``MAX_FILES`` of less than a day are kept, within
``MAX_BYTES`` in all (the CSVs counted).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from flask import current_app

log = logging.getLogger(__name__)

# Files older than this are removed whatever their key (seconds): the WIB date is in every key.
MAX_FILE_AGE = 24 * 3600
# At most this many files and bytes are kept; the oldest go first.
MAX_FILES = 64
MAX_BYTES = 1024 * 1024 * 1024
_SUFFIX = ".csv"
_PARTIAL = ".part-"
_GZIP = ".gz"


def kept_enabled() -> bool:
    """Tell whether downloads are kept: only while the page cache is on."""
    return bool(current_app.config.get("PORTAL_PAGE_CACHE_SECONDS"))


def _directory() -> Path:
    return Path(current_app.config["PORTAL_DOWNLOAD_CACHE_DIR"])


def kept_key(*parts: str) -> str:
    """Return the name a download is kept under, from everything its bytes depend on."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def kept_open(key: str, max_age: float | None,
              gzip_accepted: bool = False) -> tuple[BinaryIO, int, str | None] | None:
    """Return the kept file of a key, open, with its size and content coding (its gzip copy
    when the reader accepts gzip and it is there, else the CSV itself: None); None when there
    is none or it is older than max_age seconds (None: any age under a day)."""
    path = _directory() / f"{key}{_SUFFIX}"
    try:
        status = path.stat()
    except OSError:
        return None
    age = time.time() - status.st_mtime
    if age > MAX_FILE_AGE or (max_age is not None and age > max_age):
        return None
    # The gzip copy is written first, so it is there whenever the CSV is, unless removed.
    for candidate, coding in ([(f"{path}{_GZIP}", "gzip")] if gzip_accepted else []) + [
            (str(path), None)]:
        try:
            file = open(candidate, "rb")  # noqa: SIM115 (the answer closes it)
        except OSError:
            continue
        return file, os.fstat(file.fileno()).st_size, coding
    return None


def kept_stream(key: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Yield the chunks, writing them to the key's file and its gzip copy as they go; both
    are kept only when the last chunk is written. Dated when the stream started (its data
    was read then)."""
    started = time.time()
    try:
        directory = _directory()
        directory.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=directory, prefix=_PARTIAL, suffix=_SUFFIX)
        packed_handle, packed_partial = tempfile.mkstemp(dir=directory, prefix=_PARTIAL,
                                                         suffix=_SUFFIX + _GZIP)
    except OSError as error:  # a read-only or full disk: serve, keep nothing
        log.warning("download not kept: %s", error)
        yield from chunks
        return
    done = False
    try:
        with os.fdopen(handle, "wb") as file, os.fdopen(packed_handle, "wb") as packed_file, \
                gzip.GzipFile(fileobj=packed_file, mode="wb", mtime=0) as packed:
            for chunk in chunks:
                file.write(chunk)
                packed.write(chunk)
                yield chunk
        final = directory / f"{key}{_SUFFIX}"
        for written, name in ((packed_partial, f"{final}{_GZIP}"), (partial, str(final))):
            os.utime(written, (started, started))
            os.replace(written, name)
        done = True
    finally:
        if not done:
            Path(partial).unlink(missing_ok=True)
            Path(packed_partial).unlink(missing_ok=True)
    _prune(directory)


def _prune(directory: Path) -> None:
    """Remove the files over a day old, then the oldest beyond MAX_FILES or MAX_BYTES (a
    download and its gzip copy go together)."""
    now = time.time()
    files = []
    for path in directory.iterdir():
        try:
            status = path.stat()
        except OSError:  # removed by another worker meanwhile
            continue
        if now - status.st_mtime > MAX_FILE_AGE:
            path.unlink(missing_ok=True)
        elif path.name.endswith(_SUFFIX) and not path.name.startswith(_PARTIAL):
            files.append((status.st_mtime, status.st_size, path))
    files.sort(reverse=True)
    total = 0
    for count, (_mtime, size, path) in enumerate(files, start=1):
        total += size
        if count > MAX_FILES or total > MAX_BYTES:
            Path(f"{path}{_GZIP}").unlink(missing_ok=True)
            path.unlink(missing_ok=True)
