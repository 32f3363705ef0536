"""What the fuzzed endpoints need to get past their first checks: codes, a token, a key."""

from __future__ import annotations

from dataclasses import dataclass

from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.citizen import feedback_submit
from portal.services.metrics.tokens import token_create
from portal.services.open311.keys import open311_key_create
from tests.factories import create_department, create_service
from tests.feedback_support import create_triage_unit, valid_data


@dataclass(frozen=True)
class World:
    """A department with a service, filed feedback, a reporting token and an Open311 key."""

    department: str
    service: str
    tracking_code: str
    bearer: dict[str, str]
    open311_key: str


def make_world() -> World:
    """Create the world in the test's database."""
    create_triage_unit()
    department = create_department(code="dinas-a")
    service = create_service(department=department, code="izin-a",
                             commitment_value=2, commitment_unit="working_days")
    feedback = feedback_submit(valid_data(service=service.code), "id")
    _token, plaintext = token_create("dinas-a", "fuzz", actor=CLI_OPERATOR)
    key = open311_key_create("Fuzz", actor=CLI_OPERATOR)[1]
    return World(department.code, service.code, feedback.tracking_code_display,
                 {"Authorization": f"Bearer {plaintext}"}, key)
