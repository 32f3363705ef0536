"""A published GeoReport v2 client (the ``georeport`` package) reads the endpoint over HTTP.

The portal is served on a loopback port by a real HTTP server; the client knows nothing of
Flask. It reads the services, a service definition, the requests and one request, in JSON
and in XML (which it parses itself, with xmltodict).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from georeport import GeoReport
from werkzeug.serving import make_server

from tests.factories import create_service
from tests.feedback_support import FRIDAY_15_AUG
from tests.services.open311.world import file_feedback, publish

FORMATS = ("json", "xml")
AUGUST = {"start_date": "2025-08-01T00:00:00+07:00", "end_date": "2025-08-31T23:59:59+07:00"}


@pytest.fixture
def endpoint(app, world) -> Iterator[str]:
    """The endpoint's root URL, served by a real HTTP server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def two_published(world):
    """A second service, and a second published feedback about it."""
    other = create_service(code="dishub-kir", name_id="Uji KIR", name_en="Vehicle inspection")
    later = FRIDAY_15_AUG.replace(day=18)
    return publish(file_feedback(other, later), world.staff, later)


def _listed(value: object) -> list:
    """xmltodict gives one repeated element as a dict, several as a list."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_client_reads_the_services_and_a_definition(endpoint, two_published, fmt):
    client = GeoReport(endpoint, jurisdiction="kalteng.go.id", output_format=fmt)
    services = {s["service_code"]: s for s in client.get_service_list()}
    assert set(services) == {"samsat-pkb", "dishub-kir"}
    assert services["samsat-pkb"]["service_name"] == "Pajak Kendaraan"
    assert services["samsat-pkb"]["group"] == "Badan Pendapatan Daerah"
    assert str(services["dishub-kir"]["type"]) == "realtime"

    definition = client.get_service_definition("samsat-pkb")
    assert definition["service_code"] == "samsat-pkb"
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    assert [a["code"] for a in attributes] == [
        "kind", "regency", "anonymous", "confidential", "publish", "integrity"]
    regency = attributes[1]["values"]
    keys = [v["key"] for v in (regency if fmt == "json" else regency["value"])]
    assert keys[0] == "62.01" and keys[-1] == "62.71" and len(keys) == 14


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_client_reads_the_published_requests_and_one_of_them(endpoint, world,
                                                                 two_published, fmt):
    client = GeoReport(endpoint, jurisdiction="kalteng.go.id", output_format=fmt)
    listed = _listed(client.get_service_requests(**AUGUST))
    assert [r["service_request_id"] for r in listed] == [
        f"P{two_published.id}", f"P{world.published.id}"]
    assert [r["status"] for r in listed] == ["open", "open"]
    assert listed[1]["requested_datetime"] == "2025-08-15T10:00:00+07:00"

    one_service = _listed(client.get_service_requests(service_code="dishub-kir", **AUGUST))
    assert [r["service_request_id"] for r in one_service] == [f"P{two_published.id}"]

    one = client.get_service_request(f"P{world.published.id}")
    assert one["service_request_id"] == f"P{world.published.id}"
    assert one["status_notes"] == "Kami menambah loket mulai Senin."
    assert one["service_code"] == "samsat-pkb"

    mine = client.get_service_request(world.private.tracking_code_display)
    assert mine["service_request_id"] == world.private.tracking_code_display
    assert mine["address_id"] == "62.03"


def test_the_client_sees_errors_as_http_errors(endpoint, world):
    client = GeoReport(endpoint, output_format="json")
    with pytest.raises(requests.HTTPError) as raised:
        client.get_service_definition("tidak-ada")
    assert raised.value.response.status_code == 404
    assert raised.value.response.json()[0]["code"] == 404
