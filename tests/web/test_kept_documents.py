"""Documents every client gets alike — the sitemap, the Open311 service list, definitions and
discovery, the data package, the DCAT catalogue and the developer page — come from the page
cache while the public data version holds (the cache is on by default), and a change to the
catalogue shows at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests.conftest import a_second_later
from tests.factories import create_department, create_service

DOCUMENTS = [
    "/sitemap.xml",
    "/open311/v2/services.json",
    "/open311/v2/services.xml?lang=en",
    "/open311/v2/discovery.json",
    "/data/datapackage.json",
    "/data/catalog.jsonld",
]


@pytest.fixture
def catalogue(app):
    department = create_department(code="bapenda", name_en="Regional Revenue Agency")
    return create_service(code="samsat-pkb", name_id="Pajak Kendaraan", name_en="Vehicle tax",
                          department=department)


def _statements_during(call) -> tuple[object, list[str]]:
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        return call(), seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_document_is_served_again_from_the_cache(client, catalogue, cached, path):
    first = client.get(path)
    assert first.status_code == 200
    again, statements = _statements_during(lambda: client.get(path))
    assert again.status_code == 200 and again.data == first.data
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers.get("ETag") == first.headers.get("ETag")
    assert statements == []  # nothing read: the version read a moment ago still holds


@pytest.mark.parametrize("path", ["/sitemap.xml", "/open311/v2/services.json",
                                  "/open311/v2/services.xml?lang=en"])
def test_a_new_service_shows_in_a_kept_document_at_once(client, catalogue, cached, path):
    assert b"ktp-el" not in client.get(path).data
    create_service(code="ktp-el", name_id="KTP elektronik", name_en="Electronic ID card")
    a_second_later()
    assert b"ktp-el" in client.get(path).data


def test_a_service_definition_is_kept_and_an_unknown_code_still_answers_404(
        client, catalogue, cached):
    path = "/open311/v2/services/samsat-pkb.json"
    first = client.get(path)
    again, statements = _statements_during(lambda: client.get(path))
    assert (first.status_code, again.data, statements) == (200, first.data, [])
    missing = client.get("/open311/v2/services/no-such-service.json")
    assert missing.status_code == 404
    assert client.get("/open311/v2/services/no-such-service.json").status_code == 404


def test_the_developer_page_is_rendered_once_per_language(client, catalogue, cached):
    for _round in range(2):
        assert client.get("/en/developers").status_code == 200
        assert client.get("/id/developers").status_code == 200
    assert cached.count("developers/index.html") == 2
