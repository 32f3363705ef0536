"""Routing administration pages: admin only, CSRF, errors next to the fields, audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.extensions import db
from portal.models import AuditEntry, Department, RoutingRule
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.routing import (
    integrity_phrase_add,
    routing_decide,
    routing_rule_add,
    triage_unit,
)
from portal.services.paging import LIST_PAGE_SIZE
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
    assert client.get(f"{URL}?department=dpupr&q=jalan&page=2").status_code == status
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


# -- a province's worth of rules: pages, filters, and the forms coming back -----------------

# More "topik" rules than a page holds, above the world's "jalan rusak" (priority 10).
TOPICS = [f"topik {n:02d}" for n in range(LIST_PAGE_SIZE + 2)]


@pytest.fixture
def many(world):
    """Fill more than a page: the topics, then three rules whose order only length and age set.

    "sampah!!!!!!!!!!" is the longest as typed but, in normal form ("sampah"), shorter than
    "sampah pasar": matching, and so the list, put "sampah pasar" first; the later "Sampah"
    has the same normal form as "sampah!!!!!!!!!!" and comes after it, being younger.
    """
    for phrase in TOPICS:
        routing_rule_add("dpupr", phrase, 20, actor=CLI_OPERATOR)
    for code in ("dinkes", "dlh", "bpbd"):
        create_department(code=code)
    routing_rule_add("dinkes", "sampah!!!!!!!!!!", 0, actor=CLI_OPERATOR)
    routing_rule_add("dlh", "sampah pasar", 0, actor=CLI_OPERATOR)
    routing_rule_add("bpbd", "Sampah", 0, actor=CLI_OPERATOR)


def _phrases(html: str) -> list[str]:
    """Return the rules' phrases in the order the page lists them."""
    return re.findall(r'<th scope="row">([^<]*)</th>', html)


def _next_link(html: str, label: str) -> dict[str, list[str]]:
    """Return the query arguments of a pager's "Next page" link."""
    nav = html.split(f'aria-label="{label}"', 1)[1].split("</nav>", 1)[0]
    href = re.search(r'rel="next" href="([^"]+)"', nav).group(1).replace("&amp;", "&")
    return parse_qs(urlsplit(href).query)


def test_rules_are_paged_in_the_order_matching_applies_them(client, many):
    login(client, create_user("admin").username)
    first = client.get(URL).get_data(as_text=True)
    assert _phrases(first) == TOPICS[:LIST_PAGE_SIZE]
    assert "56 routing rules" in first and "Page 1 of 2" in first
    second = client.get(f"{URL}?page=2").get_data(as_text=True)
    assert _phrases(second) == [
        *TOPICS[LIST_PAGE_SIZE:], "jalan rusak", "sampah pasar", "sampah!!!!!!!!!!", "Sampah"]
    # What the list shows first is what wins.
    assert routing_decide(None, "Sampah di pasar, sampah pasar menumpuk").department.code == "dlh"
    assert routing_decide(None, "Banyak sampah").department.code == "dinkes"
    assert routing_decide(None, "Ada jalan rusak dan sampah").department.code == "dpupr"


@pytest.mark.parametrize("page", ["99", "0", "-1", "abc"])
def test_a_page_out_of_range_shows_the_last_or_the_first_page(client, many, page):
    login(client, create_user("admin").username)
    response = client.get(f"{URL}?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ("Page 2 of 2" if page == "99" else "Page 1 of 2") in html


def test_filters_keep_to_the_pager_links_and_narrow_the_rules(client, many):
    login(client, create_user("admin").username)
    html = client.get(f"{URL}?department=dpupr&q=T%C3%B3PIK").get_data(as_text=True)
    assert "52 routing rules" in html
    assert 'value="dpupr" selected' in html and 'value="TóPIK"' in html
    assert _next_link(html, "Pages of routing rules") == {
        "department": ["dpupr"], "q": ["TóPIK"], "page": ["2"]}
    second = client.get(f"{URL}?department=dpupr&q=T%C3%B3PIK&page=2").get_data(as_text=True)
    assert _phrases(second) == TOPICS[LIST_PAGE_SIZE:]
    sampah = client.get(f"{URL}?q=sampah").get_data(as_text=True)
    assert _phrases(sampah) == ["sampah pasar", "sampah!!!!!!!!!!", "Sampah"]
    dlh = client.get(f"{URL}?department=dlh").get_data(as_text=True)
    assert _phrases(dlh) == ["sampah pasar"]
    none = client.get(f"{URL}?department=dlh&q=jalan").get_data(as_text=True)
    assert _phrases(none) == [] and "No routing rule matches these filters." in none
    # A department that does not exist filters nothing.
    assert "56 routing rules" in client.get(f"{URL}?department=nope").get_data(as_text=True)


def test_deleting_and_adding_come_back_to_the_page_and_filters(client, many):
    login(client, create_user("admin").username)
    here = "department=dpupr&q=topik&page=2"
    html = client.get(f"{URL}?{here}").get_data(as_text=True)
    rule = db.session.query(RoutingRule).filter_by(phrase=TOPICS[-1]).one()
    delete = f"{URL}/rules/{rule.id}/delete?{here}"
    assert f'action="{delete.replace("&", "&amp;")}"' in html
    response = client.post(delete, data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.location).query) == {
        "department": ["dpupr"], "q": ["topik"], "page": ["2"]}
    back = client.get(response.location).get_data(as_text=True)
    assert _phrases(back) == TOPICS[LIST_PAGE_SIZE:-1]
    assert "The rule is deleted." in back

    added = client.post(f"{URL}/rules?{here}", data={
        "rule-csrf_token": csrf_token_from(back), "rule-department": "dpupr",
        "rule-phrase": "topik 99", "rule-priority": "0"})
    assert added.status_code == 303
    assert parse_qs(urlsplit(added.location).query)["page"] == ["2"]
    assert _phrases(client.get(added.location).get_data(as_text=True)) == [
        TOPICS[LIST_PAGE_SIZE], "topik 99"]

    refused = client.post(f"{URL}/rules?{here}", data={
        "rule-csrf_token": csrf_token_from(back), "rule-department": "",
        "rule-phrase": "topik 98", "rule-priority": "0"})
    assert refused.status_code == 422
    assert _phrases(refused.get_data(as_text=True)) == [TOPICS[LIST_PAGE_SIZE], "topik 99"]


def test_integrity_phrases_have_their_own_pager_keeping_the_rules_place(client, many):
    for n in range(LIST_PAGE_SIZE + 1):
        integrity_phrase_add(f"suap {n:02d}", actor=CLI_OPERATOR)
    login(client, create_user("admin").username)
    html = client.get(f"{URL}?q=topik&page=2").get_data(as_text=True)
    assert "suap 49" in html and "suap 50" not in html
    assert _next_link(html, "Pages of integrity phrases") == {
        "q": ["topik"], "page": ["2"], "phrases_page": ["2"]}
    second = client.get(f"{URL}?q=topik&page=2&phrases_page=2").get_data(as_text=True)
    assert "suap 50" in second and "suap 49" not in second
    assert _phrases(second) == TOPICS[LIST_PAGE_SIZE:]
    response = client.post(f"{URL}/integrity-phrases?q=topik&page=2&phrases_page=2", data={
        "integrity_phrase-csrf_token": csrf_token_from(second),
        "integrity_phrase-phrase": "uang pelicin"})
    assert response.status_code == 303
    assert response.location.endswith("#integrity-title")
    assert parse_qs(urlsplit(response.location).query) == {
        "q": ["topik"], "page": ["2"], "phrases_page": ["2"]}
