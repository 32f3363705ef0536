"""A dataset as a CSV download, written as it is read: a few rows in memory at any time.

UTF-8 without a byte-order mark, one header row of the dataset's column names, rows ending in
CRLF (RFC 4180), every cell written by :func:`portal.services.opendata.cells.csv_cell` (or the
dataset's own ``lines``, the same bytes written faster).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from portal.services.opendata.cells import csv_cell
from portal.services.opendata.schema import Dataset, Selection

# Bytes gathered before a chunk is handed to the server: large enough to keep the number of
# writes low, small enough that a download's memory stays flat.
CHUNK_BYTES = 64 * 1024


def csv_stream(dataset: Dataset, selection: Selection) -> Iterator[bytes]:
    """Yield a dataset's CSV in chunks: the header row, then every selected row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(dataset.header)
    if dataset.lines is not None:
        write = buffer.write
        for line in dataset.lines(selection):
            write(line)
            if buffer.tell() >= CHUNK_BYTES:
                yield _take(buffer)
    else:
        width = len(dataset.fields)
        for row in dataset.rows(selection):
            if len(row) != width:  # a programming error: never write a shifted column
                raise AssertionError(f"{dataset.name}: {len(row)} cells for {width} columns")
            writer.writerow([csv_cell(value) for value in row])
            if buffer.tell() >= CHUNK_BYTES:
                yield _take(buffer)
    yield buffer.getvalue().encode("utf-8")


def _take(buffer: io.StringIO) -> bytes:
    """Return what the buffer holds as UTF-8, and empty it."""
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk
