"""The API token page: who may see, create and revoke tokens, and the token shown once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models.metrics import ApiToken
from portal.models.users import AuditEntry
from portal.services.auth import CLI_OPERATOR
from portal.services.metrics.tokens import token_authenticate, token_create
from tests.factories import create_department, create_user, csrf_token_from, login


@pytest.fixture
def departments(app):
    """Two departments."""
    return create_department(code="bapenda"), create_department(code="dinkes")


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), ("officer", 200), ("admin", 200), ("triage", 403), ("dprd", 403)],
)
def test_token_page_access_by_role(client, departments, role, expected):
    if role:
        user = create_user(role=role, department=departments[0] if role == "officer" else None)
        login(client, user.username)
    assert client.get("/en/staff/tokens").status_code == expected


def test_admin_creates_a_token_shown_once_that_then_authenticates(client, departments):
    admin = create_user(role="admin")
    login(client, admin.username)
    page = client.get("/en/staff/tokens").get_data(as_text=True)

    response = client.post("/en/staff/tokens", data={
        "csrf_token": csrf_token_from(page), "department": "dinkes", "label": "SIMRS",
    })

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    plaintext = re.search(r'<code class="token">([^<]+)</code>', html).group(1)
    assert token_authenticate(plaintext).department.code == "dinkes"
    assert plaintext not in client.get("/en/staff/tokens").get_data(as_text=True)
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != plaintext
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "token.create"))
    assert audit.actor_username == admin.username


def test_officer_sees_and_revokes_only_own_department_tokens(client, departments):
    own, _plain = token_create("bapenda", "own", actor=CLI_OPERATOR)
    other, other_plain = token_create("dinkes", "other", actor=CLI_OPERATOR)
    officer = create_user(role="officer", department=departments[0])
    login(client, officer.username)
    page = client.get("/en/staff/tokens").get_data(as_text=True)
    assert "own" in page and ">other<" not in page
    token = csrf_token_from(page)

    refused = client.post(f"/en/staff/tokens/{other.id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 403
    assert token_authenticate(other_plain) is not None

    done = client.post(f"/en/staff/tokens/{own.id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302
    assert db.session.get(ApiToken, own.id).revoked_at is not None


def test_officer_cannot_create_a_token_for_another_department(client, departments):
    officer = create_user(role="officer", department=departments[0])
    login(client, officer.username)
    page = client.get("/en/staff/tokens").get_data(as_text=True)
    response = client.post("/en/staff/tokens", data={
        "csrf_token": csrf_token_from(page), "department": "dinkes", "label": "x",
    })
    assert response.status_code == 403
    assert db.session.scalar(select(ApiToken)) is None


def test_revoking_without_csrf_token_is_refused(client, departments):
    token, plaintext = token_create("bapenda", actor=CLI_OPERATOR)
    login(client, create_user(role="admin").username)
    assert client.post(f"/en/staff/tokens/{token.id}/revoke").status_code == 400
    assert token_authenticate(plaintext) is not None


def test_a_too_long_label_is_refused_in_the_readers_language(client, departments):
    admin = create_user(role="admin")
    login(client, admin.username, lang="id")
    page = client.get("/id/staff/tokens").get_data(as_text=True)
    response = client.post("/id/staff/tokens", data={
        "csrf_token": csrf_token_from(page), "department": "dinkes", "label": "x" * 201,
    })
    assert response.status_code == 422
    assert "Use at most" not in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None
