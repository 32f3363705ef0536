"""No Open311 answer ever holds a reporter's name, e-mail, phone or place, nor a list a code."""

from __future__ import annotations

from typing import Any

import pytest

from portal.extensions import db
from portal.models import Feedback
from portal.web.access_log import mask_request_line
from tests.feedback_support import FRIDAY_15_AUG
from tests.services.open311.world import IDENTITY_PIECES, file_feedback, publish
from tests.web.open311.conftest import AUGUST_2025

PLACE = {"lat": "-2.2099", "long": "113.9135",
         "address_string": "Jl. Tjilik Riwut km 1, RT 05, Palangka Raya"}
PLACE_PIECES = ("-2.2099", "113.9135", "Tjilik Riwut")


@pytest.fixture
def everything(client, world, api_key):
    """Identified, confidential and anonymous feedback, filed by form and through Open311."""
    confidential = publish(
        file_feedback(world.service, FRIDAY_15_AUG.replace(hour=13), confidential=True),
        world.staff, FRIDAY_15_AUG.replace(hour=13), answer="Terima kasih, kami tindak lanjuti.")
    filed = []
    for flags in ({}, {"attribute[confidential]": "true"}, {"attribute[anonymous]": "true"}):
        response = client.post("/open311/v2/requests.json", data={
            "api_key": api_key, "service_code": "samsat-pkb",
            "description": "Saya Siti Rahmawati, telepon 0812 3456 7890.",
            "attribute[kind]": "complaint", "attribute[publish]": "true",
            "first_name": "Siti", "last_name": "Rahmawati", "email": "siti.rahma@example.com",
            "phone": "0812 3456 7890", **PLACE, **flags})
        assert response.status_code == 200
        filed.append(response)
    return world, confidential, filed


def _answers(client: Any, world: Any, confidential: Any) -> dict[str, tuple[bool, Any]]:
    """Every GET of the endpoint, in both formats and languages, by its address.

    Each answer comes with whether it was asked for by a tracking code.
    """
    codes = [f.tracking_code_display for f in db.session.query(Feedback)]
    paths = [(False, path) for path in (
        "discovery", "services", "services/samsat-pkb", "requests", f"requests?{AUGUST_2025}",
        f"requests?service_request_id=P{world.published.id},P{confidential.id},"
        f"P{world.private.id}",
        f"requests/P{world.published.id}", f"requests/P{confidential.id}",
    )] + [(True, f"requests/{code}") for code in codes]
    answers = {}
    for by_code, path in paths:
        base, _, query = path.partition("?")
        for fmt in ("json", "xml"):
            for lang in ("id", "en"):
                address = f"/open311/v2/{base}.{fmt}?lang={lang}&{query}"
                answers[address] = (by_code, client.get(address))
    return answers


def test_no_answer_holds_a_name_an_email_a_phone_or_a_place(client, everything):
    world, confidential, filed = everything
    answers = {address: response
               for address, (_, response) in _answers(client, world, confidential).items()}
    assert {r.status_code for r in answers.values()} == {200}
    anonymous = db.session.query(Feedback).filter_by(anonymous=True).one()
    for address, response in [*answers.items(), *(("POST", r) for r in filed)]:
        body = response.get_data(as_text=True)
        if f"/{anonymous.tracking_code_display}." in address:
            # The holder of an anonymous report's code sees the text they wrote (issue 13): a
            # name typed in it cannot be recognised (none is stored), the phone number is.
            assert "Saya Siti Rahmawati, telepon […]." in body
            body = body.replace("Saya Siti Rahmawati, telepon […].", "")
        for piece in (*IDENTITY_PIECES, *PLACE_PIECES):
            assert piece not in body, (address, piece)


def test_no_list_and_no_public_id_answer_holds_a_tracking_code(client, everything):
    world, confidential, _ = everything
    codes = [(f.tracking_code, f.tracking_code_display) for f in db.session.query(Feedback)]
    assert len(codes) == 2 + 1 + 3
    for address, (by_code, response) in _answers(client, world, confidential).items():
        if by_code:
            continue  # asked for by its own tracking code
        body = response.get_data(as_text=True)
        for canonical, display in codes:
            assert canonical not in body and display not in body, address


def test_the_published_list_is_the_two_published_texts(client, everything):
    world, confidential, _ = everything
    listed = client.get(f"/open311/v2/requests.json?{AUGUST_2025}").get_json()
    assert sorted(r["service_request_id"] for r in listed) == sorted(
        [f"P{world.published.id}", f"P{confidential.id}"])


@pytest.mark.parametrize("line, logged", [
    ("GET /open311/v2/requests/K7QM-3TXV-9PHD.json?lang=en HTTP/1.1",
     "GET /open311/v2/requests/[code]?lang=en HTTP/1.1"),
    ("GET /open311/v2/requests/k7qm%203txv%209phd.xml HTTP/1.1",
     "GET /open311/v2/requests/[code] HTTP/1.1"),
    ("GET /open311/v2/requests/P12.json HTTP/1.1", "GET /open311/v2/requests/P12.json HTTP/1.1"),
    ("GET /open311/v2/requests.json?status=open HTTP/1.1",
     "GET /open311/v2/requests.json?status=open HTTP/1.1"),
])
def test_the_access_log_never_keeps_a_tracking_code_asked_for_through_open311(line, logged):
    assert mask_request_line(line) == logged
