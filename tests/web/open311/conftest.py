"""Fixtures of the Open311 tests: a published world, a key, answers read in both formats."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest

from portal.services.feedback.handling import feedback_status_set
from tests.factories import create_department, create_service
from tests.feedback_support import FRIDAY_15_AUG, create_triage_unit
from tests.services.open311.world import file_feedback, new_key, publish, triage_user

# The window holding the world's feedback (filed in August 2025).
AUGUST_2025 = "start_date=2025-08-01&end_date=2025-08-31T23:59:59%2B07:00"
# The lists of the specification's XML, and the element of each of their items.
CONTAINERS = {"services": "service", "attributes": "attribute", "values": "value",
              "service_requests": "request", "errors": "error", "endpoints": "endpoint",
              "formats": "format"}


@dataclass(frozen=True)
class World:
    """A service with published feedback (answered, then resolved) and private feedback."""

    service: Any
    staff: Any
    published: Any
    private: Any


@pytest.fixture
def world(app):
    create_triage_unit()
    department = create_department(code="bapenda", name_id="Badan Pendapatan Daerah",
                                   name_en="Regional Revenue Agency")
    service = create_service(code="samsat-pkb", name_id="Pajak Kendaraan", name_en="Vehicle tax",
                             department=department)
    staff = triage_user()
    published = publish(file_feedback(service, FRIDAY_15_AUG), staff, FRIDAY_15_AUG,
                        answer="Kami menambah loket mulai Senin.")
    private = file_feedback(service, FRIDAY_15_AUG.replace(hour=11))
    return World(service, staff, published, private)


@pytest.fixture
def resolved(world):
    """The world, its published feedback resolved with a public note."""
    feedback_status_set(world.staff, world.published.id, "resolved",
                        note="Loket tambahan sudah dibuka.",
                        now=FRIDAY_15_AUG.replace(day=20))
    return world


@pytest.fixture
def api_key(app) -> str:
    """The plaintext of an issued Open311 key."""
    return new_key()


def spark(element: ET.Element) -> Any:
    """Read the specification's XML as its JSON (Spark convention), every leaf as text."""
    if element.tag in CONTAINERS:
        assert all(child.tag == CONTAINERS[element.tag] for child in element)
        return [spark(child) for child in element]
    if len(element):
        return {child.tag: spark(child) for child in element}
    return element.text


def as_text(value: Any) -> Any:
    """Write JSON's scalars as XML's texts: true -> "true", null -> None, 3 -> "3"."""
    if isinstance(value, dict):
        return {key: as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_text(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def read(response: Any, fmt: str) -> Any:
    """Return an answer's document: JSON as it is, XML (parsed for real) as its JSON."""
    if fmt == "json":
        assert response.content_type == "application/json; charset=utf-8"
        return response.get_json()
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return spark(ET.fromstring(response.data))


def root_tag(response: Any) -> str:
    """Return the root element of an XML answer."""
    return ET.fromstring(response.data).tag
