"""Downloads are written as they are read: pages of rows by key, chunks of bytes, never all."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.services.errors import ValidationError
from portal.services.metrics.service_requests import service_requests_ingest
from portal.services.opendata import downloads, keyset
from portal.services.opendata.datasets import DATASETS, dataset_get
from portal.services.opendata.downloads import csv_stream
from portal.services.opendata.selection import selection_parse
from tests.factories import create_service
from tests.services.opendata.support import at, csv_rows, request_item

NOW = datetime(2025, 12, 10, 9, 0, tzinfo=WIB)
FIRST = date(2025, 12, 1)


@pytest.fixture
def five_days(app):
    """One service with a request received on each of 1..5 December."""
    service = create_service(code="izin-klinik", commitment_value=2, commitment_unit="hours")
    service_requests_ingest(service.department, [
        request_item(service, at(FIRST + timedelta(days=n), 8)) for n in range(5)], now=NOW)
    return service


@pytest.fixture
def day_queries(app):
    """Collect the statements that read the daily aggregates."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM service_day" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_rows_are_read_in_pages_by_key_and_only_when_needed(five_days, day_queries,
                                                            monkeypatch):
    monkeypatch.setattr(keyset, "PAGE_ROWS", 2)
    dataset = dataset_get("service_days")
    rows = dataset.rows(selection_parse(dataset, {}, NOW))
    first = next(rows)
    assert first[:2] == ("izin-klinik", FIRST)
    assert len(day_queries) == 1  # one page read, not the table
    rest = list(rows)
    assert [row[1] for row in rest] == [FIRST + timedelta(days=n) for n in range(1, 5)]
    # 5 rows in pages of 2: three limited reads, each after the last day seen (by key, not
    # by counting rows from the start).
    assert len(day_queries) == 3
    assert all("LIMIT" in q for q in day_queries)
    after_last_day = re.compile(r"service_day\.day > (\?|%\()")  # SQLite or PostgreSQL
    assert [bool(after_last_day.search(q)) for q in day_queries] == [False, True, True]


def test_the_csv_comes_in_chunks_that_make_up_the_whole_file(five_days, monkeypatch):
    dataset = dataset_get("service_days")
    selection = selection_parse(dataset, {}, NOW)
    whole = b"".join(csv_stream(dataset, selection))
    monkeypatch.setattr(downloads, "CHUNK_BYTES", 100)
    chunks = list(csv_stream(dataset, selection))
    assert len(chunks) > 2
    assert b"".join(chunks) == whole
    assert whole.startswith(b"service_code,date,received,")
    assert len(csv_rows(whole)) == 5
    assert b"\r\n" in whole and not whole.startswith(b"\xef\xbb\xbf")  # no byte-order mark


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_every_dataset_writes_its_header_even_when_empty(app, dataset):
    selection = selection_parse(dataset, {}, NOW)
    data = b"".join(csv_stream(dataset, selection))
    assert data.decode("utf-8").splitlines() == [",".join(dataset.header)]


def test_filters_a_dataset_does_not_take_are_refused_not_ignored(five_days):
    with pytest.raises(ValidationError) as refused:
        selection_parse(dataset_get("services"), {"from": ["2025-12-01"]}, NOW)
    assert [e.field for e in refused.value.errors] == ["from"]
    # Parameters that are no filter at all are ignored.
    selection_parse(dataset_get("services"), {"lang": ["en"], "utm_source": ["x"]}, NOW)


@pytest.mark.parametrize(("args", "field"), [
    ({"service": ["no-such-service"]}, "service"),
    ({"department": ["no-such-department"]}, "department"),
    ({"from": ["1 December 2025"]}, "from"),
    ({"from": ["2025-12-05"], "to": ["2025-12-01"]}, "to"),
    ({"service": [f"layanan-{n}" for n in range(101)]}, "service"),  # at most 100 codes
])
def test_bad_filters_are_refused_with_the_field_named(five_days, args, field):
    with pytest.raises(ValidationError) as refused:
        selection_parse(dataset_get("service_days"), args, NOW)
    assert [e.field for e in refused.value.errors] == [field]
