"""Routing administration pages: admin only, CSRF, errors next to the fields, audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from portal.extensions import db
from portal.models import AuditEntry, Department, RoutingRule
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.routing import routing_rule_add, triage_unit
from tests.factories import create_department, create_user, csrf_token_from, login
from tests.feedback_support import create_triage_unit

URL = "/en/staff/routing"


@dataclass(frozen=True)
class World:
    """What the world fixture sets up."""

    department: Any
    rule: Any


@pytest.fixture
def world(app):
    create_triage_unit(code="ulp")
    department = create_department(code="dpupr", name_en="Public Works Office")
    rule = routing_rule_add("dpupr", "jalan rusak", 10, actor=CLI_OPERATOR)
    return World(department=department, rule=rule)


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), ("officer", 403), ("triage", 403), ("dprd", 403), ("admin", 200)],
)
def test_access_table(client, world, role, status):
    rule = world.rule
    if role:
        login(client, create_user(role).username)
    assert client.get(URL).status_code == status
    # Writing needs the admin role too (the CSRF token of any staff page is valid).
    if role:
        token = csrf_token_from(client.get("/en/staff/").get_data(as_text=True))
        response = client.post(f"{URL}/rules/{rule.id}/delete", data={"csrf_token": token})
        assert response.status_code == (303 if role == "admin" else 403)


def test_the_page_lists_rules_in_winning_order_and_the_triage_unit(client, world):
    routing_rule_add("dpupr", "jembatan", 5, actor=CLI_OPERATOR)
    login(client, create_user("admin").username)
    html = client.get(URL).get_data(as_text=True)
    assert html.index("jalan rusak") < html.index("jembatan")
    assert "Public Works Office" in html
    assert "Currently: Complaints Unit." in html


def test_an_admin_adds_a_rule(client, world):
    admin = create_user("admin")
    login(client, admin.username)
    token = csrf_token_from(client.get(URL).get_data(as_text=True))
    response = client.post(f"{URL}/rules", data={
        "rule-csrf_token": token, "rule-department": "dpupr", "rule-phrase": "Lampu  jalan",
        "rule-priority": "3"})
    assert response.status_code == 303
    rule = db.session.query(RoutingRule).filter_by(phrase="Lampu jalan").one()
    assert (rule.priority, rule.department.code) == (3, "dpupr")
    entry = db.session.query(AuditEntry).filter_by(
        action="routing.rule_add", actor_username=admin.username).one()
    assert entry.to_state == "dpupr:3"


def test_a_refused_rule_keeps_what_was_typed_and_says_why(client, world):
    login(client, create_user("admin").username)
    token = csrf_token_from(client.get(URL).get_data(as_text=True))
    response = client.post(f"{URL}/rules", data={
        "rule-csrf_token": token, "rule-department": "", "rule-phrase": "lampu jalan",
        "rule-priority": "4"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="lampu jalan"' in html and 'value="4"' in html
    assert 'aria-invalid="true"' in html
    assert db.session.query(RoutingRule).count() == 1


def test_posting_without_a_csrf_token_is_refused(client, world):
    login(client, create_user("admin").username)
    response = client.post(f"{URL}/rules", data={
        "rule-department": "dpupr", "rule-phrase": "lampu", "rule-priority": "1"})
    assert response.status_code == 400
    assert db.session.query(RoutingRule).count() == 1


def test_an_admin_deletes_a_rule_and_chooses_the_triage_unit(client, world):
    department, rule = world.department, world.rule
    admin = create_user("admin")
    login(client, admin.username)
    token = csrf_token_from(client.get(URL).get_data(as_text=True))
    assert client.post(f"{URL}/rules/{rule.id}/delete",
                       data={"csrf_token": token}).status_code == 303
    assert db.session.query(RoutingRule).count() == 0
    assert client.post(f"{URL}/rules/9999/delete", data={"csrf_token": token}).status_code == 404
    response = client.post(f"{URL}/triage-unit",
                           data={"unit-csrf_token": token, "unit-department": "dpupr"})
    assert response.status_code == 303
    db.session.expire_all()
    assert triage_unit().id == department.id
    assert db.session.query(Department).filter_by(is_triage_unit=True).count() == 1
    by_admin = db.session.query(AuditEntry).filter_by(actor_username=admin.username)
    assert [e.action for e in by_admin.order_by(AuditEntry.id)] == [
        "routing.rule_delete", "routing.triage_unit"]


def test_the_dashboard_links_to_routing_for_admins_only(client, world):
    login(client, create_user("admin").username)
    assert URL in client.get("/en/staff/").get_data(as_text=True)
    client.post("/en/staff/logout", data={
        "csrf_token": csrf_token_from(client.get("/en/staff/").get_data(as_text=True))})
    login(client, create_user("triage").username)
    assert URL not in client.get("/en/staff/").get_data(as_text=True)
