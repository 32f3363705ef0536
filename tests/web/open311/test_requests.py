"""GET requests and requests/ID: published feedback under public ids, tracking codes aside."""

from __future__ import annotations

import pytest

from portal.services.feedback.citizen import feedback_reopen
from portal.services.feedback.publishing import feedback_publish_decline
from portal.services.open311.listing import open311_requests
from portal.web.open311 import views as open311_views
from tests.conftest import a_second_later
from tests.feedback_support import FRIDAY_15_AUG
from tests.services.open311.world import publish
from tests.web.open311.conftest import AUGUST_2025, read, root_tag

FORMATS = ("json", "xml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_list_shows_published_feedback_only_under_its_public_id(client, world, fmt):
    response = client.get(f"/open311/v2/requests.{fmt}?{AUGUST_2025}&lang=en")
    assert response.status_code == 200
    if fmt == "xml":
        assert root_tag(response) == "service_requests"
    [request] = read(response, fmt)
    assert request["service_request_id"] == f"P{world.published.id}"
    assert request["status"] == "open"
    assert request["status_notes"] == "Kami menambah loket mulai Senin."
    assert (request["service_code"], request["service_name"]) == ("samsat-pkb", "Vehicle tax")
    assert request["description"] == (
        "Antrean panjang di loket\n\nWarga menunggu tiga jam di loket pelayanan.")
    assert request["agency_responsible"] == "Regional Revenue Agency"
    # Filed on Friday 15 August 2025 at 10:00 WIB; 14 working days after it (17 and 18
    # August, 5 September are holidays) end on Monday 8 September 2025 at 24:00 WIB.
    assert request["requested_datetime"] == "2025-08-15T10:00:00+07:00"
    assert request["expected_datetime"] == "2025-09-09T00:00:00+07:00"
    # Answered at 12:00 WIB, two hours after filing: its last public step.
    assert request["updated_datetime"] == "2025-08-15T12:00:00+07:00"
    assert request["service_notice"].startswith(
        "It went to Regional Revenue Agency because you chose one of its services: "
        "Vehicle tax.")
    assert "It is to be resolved by 8 September 2025." in request["service_notice"]
    # Answered already: no first response is awaited any more.
    assert "responds by" not in request["service_notice"]
    assert (request["address"], request["address_id"]) == (None, None)


def test_resolved_feedback_is_closed_with_its_latest_public_note(client, resolved):
    [request] = client.get(f"/open311/v2/requests.json?{AUGUST_2025}&lang=en").get_json()
    assert request["status"] == "closed"
    assert request["status_notes"] == "Loket tambahan sudah dibuka."
    assert request["updated_datetime"] == "2025-08-20T10:00:00+07:00"
    # Resolved on Wednesday 20 August: it closes 10 working days later, on 3 September.
    assert "It closes on 3 September 2025 unless the reporter reopens it before then." in (
        request["service_notice"])


def test_the_status_filter_uses_open_and_closed(client, resolved):
    closed = client.get(f"/open311/v2/requests.json?{AUGUST_2025}&status=closed").get_json()
    still_open = client.get(f"/open311/v2/requests.json?{AUGUST_2025}&status=open").get_json()
    assert [r["service_request_id"] for r in closed] == [f"P{resolved.published.id}"]
    assert still_open == []
    both = client.get(f"/open311/v2/requests.json?{AUGUST_2025}&status=open&status=closed")
    assert [r["service_request_id"] for r in both.get_json()] == [f"P{resolved.published.id}"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_filter_is_a_400_naming_it(client, world, fmt):
    response = client.get(f"/open311/v2/requests.{fmt}?start_date=kemarin&lang=en")
    assert response.status_code == 400
    [error] = read(response, fmt)
    assert str(error["code"]) == "400"
    assert error["description"].startswith("start_date: ")


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_by_public_id_is_a_list_of_one(client, world, fmt):
    response = client.get(f"/open311/v2/requests/P{world.published.id}.{fmt}?lang=en")
    assert response.status_code == 200
    [request] = read(response, fmt)
    assert request["service_request_id"] == f"P{world.published.id}"
    assert request["description"].startswith("Antrean panjang di loket")
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_tracking_code_shows_its_holder_the_tracking_pages_view(client, world, fmt):
    code = world.private.tracking_code_display
    response = client.get(f"/open311/v2/requests/{code.lower()}.{fmt}?lang=en")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [request] = read(response, fmt)
    assert request["service_request_id"] == code
    assert request["status"] == "open"
    assert (request["address"], request["address_id"]) == ("Kabupaten Kapuas", "62.03")
    # Not published: only the holder gets their own text back (issue 13), de-identified.
    assert request["description"] == (
        "Antrean panjang — […]\n\nSaya […] […], […]) menunggu tiga jam.")
    assert "The department responds by 25 August 2025." in request["service_notice"]


@pytest.mark.parametrize("identifier", ["P999999", "tidak-ada", "K7QM3TXV9PHD"])
def test_an_unknown_or_unpublished_request_is_a_404(client, world, identifier):
    response = client.get(f"/open311/v2/requests/{identifier}.json?lang=en")
    assert response.status_code == 404
    assert response.get_json()[0]["code"] == 404


def test_unpublished_feedback_is_not_found_by_its_public_id(client, world):
    assert client.get(f"/open311/v2/requests/P{world.private.id}.json").status_code == 404


def test_characters_xml_cannot_carry_are_dropped_from_the_xml_only(client, world):
    publish(world.published, world.staff, FRIDAY_15_AUG, subject="Antrean\x0bpanjang",
            body="Warga menunggu\x1b tiga jam.")
    path = f"/open311/v2/requests/P{world.published.id}"
    [as_json] = client.get(f"{path}.json").get_json()
    [as_xml] = read(client.get(f"{path}.xml"), "xml")
    assert as_json["description"] == "Antrean\x0bpanjang\n\nWarga menunggu\x1b tiga jam."
    assert as_xml["description"] == "Antreanpanjang\n\nWarga menunggu tiga jam."


@pytest.fixture
def built(monkeypatch):
    """Count the searches the request list runs (each one builds the list afresh)."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return open311_requests(*args, **kwargs)

    monkeypatch.setattr(open311_views, "open311_requests", counted)
    return calls


def test_the_list_is_kept_for_the_next_client_while_nothing_changed(client, world, cached,
                                                                    built):
    first = client.get(f"/open311/v2/requests.json?{AUGUST_2025}")
    again = client.get(f"/open311/v2/requests.json?{AUGUST_2025}")
    assert again.data == first.data
    assert len(built) == 1
    # Another query, format or language is another list.
    client.get(f"/open311/v2/requests.xml?{AUGUST_2025}")
    client.get(f"/open311/v2/requests.json?{AUGUST_2025}&lang=en")
    assert len(built) == 3
    assert again.headers["Cache-Control"] == "no-cache"  # clients still revalidate


def test_a_kept_list_shows_a_new_handling_step_at_once(client, resolved, cached, built):
    [before] = client.get(f"/open311/v2/requests.json?{AUGUST_2025}").get_json()
    assert before["status"] == "closed"
    # The reporter reopens it: a step of theirs, which no staff audit records.
    feedback_reopen(resolved.published.tracking_code, "Antrean masih panjang.",
                    now=FRIDAY_15_AUG.replace(day=21))
    a_second_later()
    [after] = client.get(f"/open311/v2/requests.json?{AUGUST_2025}").get_json()
    assert after["status"] == "open"
    assert len(built) == 2


def test_a_withdrawn_text_leaves_a_kept_list_at_once(client, world, cached):
    assert client.get(f"/open311/v2/requests.json?{AUGUST_2025}").get_json()
    feedback_publish_decline(world.staff, world.published.id)
    a_second_later()
    assert client.get(f"/open311/v2/requests.json?{AUGUST_2025}").get_json() == []
