"""CSV downloads kept on disk for the next reader: reused while they hold, never stale beyond
what their Cache-Control allows, never half-written, never kept with the page cache off."""

from __future__ import annotations

import gc
import gzip
import os
import time

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.models.metrics import ServiceDay
from portal.services.metrics.incidents import incident_open
from portal.web.data import kept
from portal.web.data.pages import MAX_AGE
from tests.conftest import a_second_later
from tests.services.opendata.support import build_province, csv_rows


@pytest.fixture
def kept_dir(app, tmp_path, monkeypatch):
    """Page cache on, downloads kept in a folder of this test's own."""
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_SECONDS", 60)
    monkeypatch.setitem(app.config, "PORTAL_DOWNLOAD_CACHE_DIR", str(tmp_path / "downloads"))
    return tmp_path / "downloads"


@pytest.fixture
def province(app):
    return build_province()


def kept_files(directory):
    return sorted(p for p in directory.glob("*.csv") if not p.name.startswith(".part-"))


def get(client, path, **kwargs):
    """Download in full, as a reader does (the test client reads a stream only when asked)."""
    response = client.get(path, **kwargs)
    response.get_data()
    return response


def change_every_days_count():
    """Change the daily figures behind the data version's back, as a late report does."""
    db.session.execute(update(ServiceDay).values(due=ServiceDay.due + 100))
    db.session.commit()


def age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_second_reader_gets_the_kept_copy(client, kept_dir, province):
    first = get(client, "/data/service_days.csv")
    assert first.status_code == 200
    [file] = kept_files(kept_dir)
    assert file.read_bytes() == first.data

    change_every_days_count()  # not seen by the data version: the copy still holds
    second = get(client, "/data/service_days.csv")
    assert second.data == first.data
    assert second.headers["Content-Length"] == str(len(first.data))
    for header in ("Content-Disposition", "Link", "Cache-Control", "Content-Type"):
        assert second.headers[header] == first.headers[header]


def test_daily_figures_are_reused_no_longer_than_their_max_age(client, kept_dir, province):
    first = get(client, "/data/service_days.csv")
    change_every_days_count()
    [file] = kept_files(kept_dir)
    age(file, MAX_AGE + 1)

    fresh = get(client, "/data/service_days.csv")
    assert fresh.data != first.data
    dues = {r["due"] for r in csv_rows(fresh.data)}
    assert all(int(due) >= 100 for due in dues)
    assert kept_files(kept_dir)[0].read_bytes() == fresh.data


def test_a_versioned_dataset_shows_a_new_row_at_once(client, kept_dir, province):
    before = get(client, "/data/incidents.csv")
    assert len(kept_files(kept_dir)) == 1
    incident_open(province.admin, [province.clinic.code], "minor", "Antrean lambat",
                  "Slow queue", "Sedang diperiksa.", "Being checked.")
    a_second_later()  # the data version is read at most once a second
    after = get(client, "/data/incidents.csv")
    assert len(csv_rows(after.data)) == len(csv_rows(before.data)) + 1
    assert after.headers["ETag"] != before.headers["ETag"]
    assert len(kept_files(kept_dir)) == 2


def test_a_versioned_copy_holds_past_the_max_age_while_the_data_version_does(
        client, kept_dir, province):
    first = get(client, "/data/incidents.csv")
    [file] = kept_files(kept_dir)
    file.write_bytes(file.read_bytes() + b"kept\r\n")  # to tell the copy from a fresh one
    age(file, MAX_AGE + 60)
    assert get(client, "/data/incidents.csv").data == first.data + b"kept\r\n"


def test_each_selection_is_kept_apart(client, kept_dir, province):
    whole = get(client, "/data/services.csv")
    one = get(client, "/data/services.csv?department=dinkes")
    assert [r["service_code"] for r in csv_rows(one.data)] == ["izin-klinik"]
    assert len(csv_rows(whole.data)) == 2
    assert len(kept_files(kept_dir)) == 2
    assert get(client, "/data/services.csv?department=dinkes").data == one.data
    assert get(client, "/data/services.csv").data == whole.data


def test_a_refused_selection_is_not_kept(client, kept_dir, province):
    assert get(client, "/data/service_days.csv?from=kemarin").status_code == 400
    assert not kept_dir.exists() or not list(kept_dir.iterdir())


def test_nothing_is_kept_with_the_page_cache_off(app, client, kept_dir, province, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_SECONDS", 0)
    first = get(client, "/data/service_days.csv")
    assert not kept_dir.exists() or not list(kept_dir.iterdir())
    change_every_days_count()
    assert get(client, "/data/service_days.csv").data != first.data


def test_a_download_left_half_way_keeps_nothing(client, kept_dir, province, monkeypatch):
    monkeypatch.setattr("portal.services.opendata.downloads.CHUNK_BYTES", 64)
    response = client.get("/data/service_days.csv", buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"service_code,date,")
    assert list(kept_dir.glob(".part-*"))  # being written
    response.close()
    del chunks
    gc.collect()
    assert list(kept_dir.iterdir()) == []

    whole = get(client, "/data/service_days.csv")
    assert kept_files(kept_dir)[0].read_bytes() == whole.data


def test_a_kept_copy_is_sent_gzipped_as_kept_to_a_client_that_accepts_gzip(
        client, kept_dir, province):
    plain = get(client, "/data/service_days.csv").data
    [file] = kept_files(kept_dir)
    packed_copy = file.with_name(file.name + ".gz")
    assert gzip.decompress(packed_copy.read_bytes()) == plain
    for accepted in ("gzip", "zstd, br, gzip"):
        response = get(client, "/data/service_days.csv", headers={"Accept-Encoding": accepted})
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.data == packed_copy.read_bytes()
        assert response.headers["Content-Length"] == str(len(response.data))
    # A reader who does not accept gzip gets the CSV itself.
    identity = get(client, "/data/service_days.csv", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in identity.headers
    assert identity.data == plain


def test_a_kept_versioned_copy_answers_304_to_a_reader_who_has_it(client, kept_dir, province):
    first = get(client, "/data/incidents.csv")
    again = get(client, "/data/incidents.csv", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert len(kept_files(kept_dir)) == 1


def test_old_and_surplus_copies_are_removed(client, kept_dir, province, monkeypatch):
    monkeypatch.setattr(kept, "MAX_FILES", 2)
    get(client, "/data/services.csv")
    [old] = kept_files(kept_dir)
    age(old, kept.MAX_FILE_AGE + 1)
    get(client, "/data/departments.csv")
    assert old not in kept_files(kept_dir)  # over a day old
    for department in ("dinkes", "bapenda"):
        get(client, f"/data/services.csv?department={department}")
        time.sleep(0.01)
    names = [p.name for p in kept_files(kept_dir)]
    assert len(names) == 2
    # The newest two are kept: asking for them again writes nothing new.
    get(client, "/data/services.csv?department=bapenda")
    assert [p.name for p in kept_files(kept_dir)] == names
