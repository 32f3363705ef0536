"""Answers are compressed when the client accepts it, and conditional requests still work."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from backports import zstd  # compression.zstd from Python 3.14
from flask_compress import flask_compress as flask_compress_module

from portal import create_app
from portal.extensions import CompressedBodies, compress
from tests.conftest import a_second_later, make_test_config
from tests.factories import create_department, create_service, csrf_token_from
from tests.services.opendata.support import build_province

ROOT = Path(__file__).resolve().parents[2]
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def catalogue(app):
    """A department with a few services: every answer below is well over a kilobyte."""
    department = create_department(code="dinkes", name_id="Dinas Kesehatan",
                                   name_en="Health Office")
    return [create_service(department=department, code=f"izin-klinik-{n}",
                           name_id=f"Izin klinik pratama {n}", name_en=f"Clinic permit {n}")
            for n in range(3)]


# (path, media type, what the plain answer starts with)
ANSWERS = [
    ("/id/services", "text/html", b"<!doctype html"),
    ("/api/v1/services", "application/json", b"{"),
    ("/api/v1/accountability.csv", "text/csv", "\ufeffcode,name,".encode()),
]


@pytest.mark.parametrize(("path", "mimetype", "start"), ANSWERS)
def test_answer_is_gzip_compressed_when_the_client_accepts_gzip(
    client, catalogue, path, mimetype, start
) -> None:
    plain = client.get(path)
    packed = client.get(path, headers=GZIP)
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.mimetype == mimetype
    # Caches must keep the encodings apart.
    assert "accept-encoding" in packed.headers["Vary"].lower()
    unpacked = gzip.decompress(packed.data)
    assert unpacked.lower().startswith(start.lower())
    assert len(packed.data) < len(unpacked) / 2
    assert int(packed.headers["Content-Length"]) == len(packed.data)
    if mimetype == "text/csv":
        # The same rows (each carries the time it was generated, so compare the header).
        assert unpacked.splitlines()[0] == plain.data.splitlines()[0]
        assert len(unpacked.splitlines()) == len(plain.data.splitlines())
    else:
        assert unpacked == plain.data


@pytest.mark.parametrize(("path", "mimetype", "start"), ANSWERS)
def test_answer_is_not_compressed_when_the_client_does_not_ask(
    client, catalogue, path, mimetype, start
) -> None:
    for headers in ({}, {"Accept-Encoding": "identity"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers
        assert response.data.lower().startswith(start.lower())


def test_brotli_is_used_when_the_client_accepts_only_brotli(client, catalogue) -> None:
    plain = client.get("/id/services")
    packed = client.get("/id/services", headers={"Accept-Encoding": "br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == plain.data


# The open-data CSVs are streamed as they are read (portal/web/data/pages.py).
STREAMED = ["/data/services.csv", "/data/service_days.csv"]


@pytest.mark.parametrize("path", STREAMED)
def test_a_streamed_csv_is_gzip_compressed_for_a_client_that_accepts_only_gzip(
    client, path
) -> None:
    build_province()
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    packed = client.get(path, headers=GZIP)
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in packed.headers  # still streamed, not buffered
    assert gzip.decompress(packed.data) == plain.data
    assert len(plain.data.splitlines()) > 2  # rows, not only the header


@pytest.mark.parametrize(("accept", "encoding", "unpack"), [
    ("gzip, deflate, br, zstd", "zstd", zstd.decompress),  # a browser's list
    ("gzip, br", "br", brotli.decompress),
    ("gzip;q=0.5, zstd", "zstd", zstd.decompress),
])
def test_a_streamed_csv_keeps_the_preferred_encoding_of_a_client_that_accepts_more(
    client, accept, encoding, unpack
) -> None:
    build_province()
    plain = client.get("/data/services.csv")
    packed = client.get("/data/services.csv", headers={"Accept-Encoding": accept})
    assert packed.headers["Content-Encoding"] == encoding
    assert unpack(packed.data) == plain.data


def test_atom_feed_is_compressed(client, catalogue) -> None:
    plain = client.get("/id/incidents.atom")
    packed = client.get("/id/incidents.atom", headers=GZIP)
    assert packed.mimetype == "application/atom+xml"
    assert packed.headers["Content-Encoding"] == "gzip"
    # An empty feed dates itself "now" (to the second), so two requests may differ there.
    assert _undated(gzip.decompress(packed.data)) == _undated(plain.data)


def _undated(feed: bytes) -> bytes:
    """Return a feed without its <updated> times."""
    return re.sub(rb"<updated>[^<]*</updated>", b"", feed)


@pytest.mark.parametrize("path", ["/id/services", "/api/v1/services", "/id/incidents.atom",
                                  "/open311/v2/services.json", "/open311/v2/services.xml"])
def test_a_compressed_answer_revalidates_with_an_empty_304(client, catalogue, path) -> None:
    first = client.get(path, headers=GZIP)
    again = client.get(path, headers={**GZIP, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_each_encoding_of_a_page_has_its_own_etag(client, catalogue) -> None:
    tags = {
        client.get("/id/services", headers={"Accept-Encoding": encoding}).headers["ETag"]
        for encoding in ("identity", "gzip", "br")
    }
    # Strong validators of different bytes must differ (RFC 9110, 8.8.3).
    assert len(tags) == 3
    assert not any(tag.startswith("W/") for tag in tags)


def test_a_changed_page_is_sent_again_compressed(client, catalogue) -> None:
    first = client.get("/id/services", headers=GZIP)
    create_service(department=catalogue[0].department, code="izin-apotek",
                   name_id="Izin apotek", name_en="Pharmacy permit")
    again = client.get("/id/services", headers={**GZIP, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert b"Izin apotek" in gzip.decompress(again.data)


def test_live_version_keeps_the_etag_the_refresh_script_compares(client, catalogue) -> None:
    page = client.get("/id/services", headers=GZIP)
    version = re.search(rb'data-version="([^"]+)"', gzip.decompress(page.data)).group(1)
    live = client.get("/id/live", headers=GZIP)
    assert live.headers["ETag"] == version.decode().replace("&#34;", '"')


def test_static_files_are_not_compressed_twice(client, catalogue) -> None:
    page = client.get("/id/services").data.decode()
    css_url = re.search(r'href="(/static/[0-9a-f]{12}/css/portal\.css)"', page).group(1)
    response = client.get(css_url, headers=GZIP)
    assert response.status_code == 200
    body = response.data
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert body == (ROOT / "static/css/portal.css").read_bytes()


def test_every_vary_value_survives_compression(database_url) -> None:
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=database_url))

    @app.get("/two-varies")
    def two_varies():
        response = app.response_class("words " * 400, mimetype="text/plain")
        response.headers.add("Vary", "Accept-Language")
        response.headers.add("Vary", "Origin")
        return response

    response = app.test_client().get("/two-varies", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    # A shared cache must still tell the languages and origins apart.
    vary = [v.strip().lower() for line in response.headers.getlist("Vary")
            for v in line.split(",")]
    assert sorted(vary) == ["accept-encoding", "accept-language", "origin"]


@pytest.fixture
def compressions(monkeypatch) -> list[str]:
    """The encodings Flask-Compress compresses with from now on, one per body compressed
    (starting from no kept compressed body: another test may have compressed these bytes)."""
    done: list[str] = []
    real = flask_compress_module._compress_data

    def counted(app, data, algorithm):
        done.append(algorithm)
        return real(app, data, algorithm)

    monkeypatch.setattr(flask_compress_module, "_compress_data", counted)
    compress.cache.clear()
    return done


def test_a_page_from_the_page_cache_is_compressed_once_for_every_reader(
        app, client, catalogue, cached, compressions) -> None:
    plain = client.get("/id/services").data
    bodies = [client.get("/id/services", headers=GZIP).data for _ in range(3)]
    assert [gzip.decompress(body) for body in bodies] == [plain] * 3
    assert compressions == ["gzip"]
    # Each encoding and each page is kept apart.
    english = client.get("/en/services", headers=GZIP).data
    assert b"Clinic permit 0" in gzip.decompress(english)
    assert b"Izin klinik pratama 0" in brotli.decompress(
        client.get("/id/services", headers={"Accept-Encoding": "br"}).data)
    assert compressions == ["gzip", "gzip", "br"]


def test_each_visitor_of_a_kept_form_gets_their_own_token_compressed(
        app, catalogue, cached) -> None:
    tokens = []
    for _ in range(2):
        visitor = app.test_client()
        page = gzip.decompress(visitor.get("/id/feedback/new", headers=GZIP).data)
        tokens.append(csrf_token_from(page.decode()))
        # The token in the page is the one this visitor's session signs: the form goes through.
        assert visitor.post("/id/feedback/new", data={"csrf_token": tokens[-1]},
                            headers=GZIP).status_code != 400
    assert tokens[0] != tokens[1]


def test_only_answers_named_by_a_strong_etag_are_kept_and_within_their_budget() -> None:
    bodies = CompressedBodies()
    bodies.set("gzip;", b"no etag: never kept")
    assert bodies.get("gzip;") is None
    bodies.MAX_BYTES = 80  # a body over an eighth of the budget is not kept either
    bodies.set("gzip;big:100", b"x" * 11)
    assert bodies.get("gzip;big:100") is None
    for n in range(9):
        bodies.set(f"gzip;tag{n}:10", bytes([n]) * 10)
    # 90 bytes over a budget of 80: the least recently used went first.
    assert bodies.get("gzip;tag0:10") is None
    assert bodies.get("gzip;tag8:10") == bytes([8]) * 10


@pytest.mark.parametrize("path", ["/open311/v2/services.json", "/open311/v2/services.xml?lang=en"])
def test_a_kept_open311_document_is_compressed_once_for_every_reader(
        app, client, catalogue, cached, compressions, path) -> None:
    plain = client.get(path).data
    assert b"izin-klinik-2" in plain
    bodies = [client.get(path, headers=GZIP).data for _ in range(3)]
    assert [gzip.decompress(body) for body in bodies] == [plain] * 3
    assert compressions == ["gzip"]
    # A new service is a new body: compressed again, and shown.
    create_service(department=catalogue[0].department, code="izin-apotek",
                   name_id="Izin apotek", name_en="Pharmacy permit")
    a_second_later()
    assert b"izin-apotek" in gzip.decompress(client.get(path, headers=GZIP).data)
    assert compressions == ["gzip", "gzip"]
