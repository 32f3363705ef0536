"""Routing: service first, then rules (whole words, tolerant), then the triage unit."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import Department, RoutingRule
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import NotFound, ValidationError
from portal.services.feedback.routing import (
    phrase_matches,
    routing_decide,
    routing_rule_add,
    routing_rule_list,
    routing_triage_unit_set,
    text_normalise,
    triage_unit,
)
from tests.factories import create_department, create_service
from tests.feedback_support import create_triage_unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jalan  RUSAK", "jalan rusak"),
        ("jalan-rusak!!", "jalan rusak"),
        ("Kesehatan Ibu & Anak", "kesehatan ibu anak"),
        ("Pérmohonan  ÎZIN\tusaha", "permohonan izin usaha"),
        ("  ", ""),
    ],
)
def test_text_normalise_folds_case_accents_spacing_and_punctuation(raw, expected):
    assert text_normalise(raw) == expected


@pytest.mark.parametrize(
    ("phrase", "text", "matches"),
    [
        ("dinas", "Dinas Kesehatan lambat", True),
        ("dinas", "politik dinasti", False),
        ("dinas", "kedinasan", False),
        ("jalan rusak", "Ada JALAN   Rusák di depan rumah", True),
        ("jalan rusak", "jalan-rusak dekat pasar", True),
        ("jalan rusak", "jalan yang rusak", False),
        ("izin", "perizinan", False),
        ("izin", "Izin.", True),
    ],
)
def test_phrases_match_whole_words_only(phrase, text, matches):
    assert phrase_matches(phrase, text) is matches


def test_a_chosen_service_routes_to_its_department_before_any_rule(app):
    service = create_service()
    other = create_department()
    routing_rule_add(other.code, "antrean", priority=100, actor=CLI_OPERATOR)
    decision = routing_decide(service, "antrean panjang")
    assert decision.department.id == service.department.id
    assert (decision.rule, decision.detail) == ("service", service.code)


def test_the_highest_priority_rule_wins_whatever_the_creation_order(app):
    low, high = create_department(), create_department()
    routing_rule_add(high.code, "sampah", priority=5, actor=CLI_OPERATOR)
    routing_rule_add(low.code, "sampah menumpuk", priority=1, actor=CLI_OPERATOR)
    decision = routing_decide(None, "Sampah menumpuk di pasar")
    assert decision.department.id == high.id
    assert (decision.rule, decision.detail) == ("rule", "sampah")


def test_equal_priority_prefers_the_longer_phrase_then_the_older_rule(app):
    first, second, third = create_department(), create_department(), create_department()
    routing_rule_add(first.code, "air", priority=3, actor=CLI_OPERATOR)
    routing_rule_add(second.code, "air bersih", priority=3, actor=CLI_OPERATOR)
    routing_rule_add(third.code, "air bersih", priority=3, actor=CLI_OPERATOR)
    decision = routing_decide(None, "air bersih tidak mengalir")
    assert decision.department.id == second.id


def test_rules_match_despite_accents_case_and_spacing(app):
    department = create_department()
    routing_rule_add(department.code, "Jalan Rusak", priority=1, actor=CLI_OPERATOR)
    assert routing_decide(None, "ada jalan-RUSÁK").department.id == department.id


def test_a_rule_does_not_match_inside_a_longer_word(app):
    create_triage_unit()
    department = create_department()
    routing_rule_add(department.code, "dinas", priority=1, actor=CLI_OPERATOR)
    decision = routing_decide(None, "soal dinasti politik")
    assert decision.department is None
    assert decision.rule == "triage"


def test_without_service_or_matching_rule_it_goes_to_triage(app):
    unit = create_triage_unit()
    decision = routing_decide(None, "sesuatu yang lain")
    assert (decision.department, decision.rule) == (None, "triage")
    assert triage_unit().id == unit.id


def test_no_triage_unit_is_created_on_demand(app):
    assert triage_unit() is None
    routing_decide(None, "apa saja")
    assert db.session.query(Department).filter_by(is_triage_unit=True).count() == 0


def test_routing_rule_add_refuses_a_phrase_without_letters(app):
    department = create_department()
    with pytest.raises(ValidationError):
        routing_rule_add(department.code, " !!! ", priority=1, actor=CLI_OPERATOR)
    assert db.session.query(RoutingRule).count() == 0


def test_routing_rule_add_refuses_an_unknown_department(app):
    with pytest.raises(NotFound):
        routing_rule_add("tidak-ada", "sampah", priority=1, actor=CLI_OPERATOR)


def test_rule_list_is_in_winning_order(app):
    department = create_department()
    a = routing_rule_add(department.code, "a b", priority=1, actor=CLI_OPERATOR)
    b = routing_rule_add(department.code, "zzz", priority=9, actor=CLI_OPERATOR)
    c = routing_rule_add(department.code, "a b c", priority=1, actor=CLI_OPERATOR)
    assert [r.id for r in routing_rule_list(CLI_OPERATOR)] == [b.id, c.id, a.id]


def test_only_one_department_is_the_triage_unit(app):
    old = create_triage_unit()
    new = create_department()
    routing_triage_unit_set(new.code, actor=CLI_OPERATOR)
    db.session.expire_all()
    assert db.session.get(Department, old.id).is_triage_unit is False
    assert triage_unit().id == new.id


def test_cli_adds_lists_and_marks_the_triage_unit(app, runner):
    department = create_department(code="dinas-pu")
    create_department(code="ulp")
    result = runner.invoke(args=["routing", "add", "dinas-pu", "Jalan Rusak", "--priority", "7"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["routing", "triage-unit", "ulp"])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["routing", "list"]).output
    assert "triage unit: ulp" in listing
    assert "7\tdinas-pu\tJalan Rusak" in listing
    assert routing_decide(None, "jalan rusak").department.id == department.id
    assert runner.invoke(args=["routing", "add", "nope", "x"]).exit_code == 1


def test_routing_demo_load_marks_the_triage_unit_and_adds_rules_once(app):
    from portal.services.feedback.routing import routing_demo_load

    create_department(code="biro-organisasi")
    dpupr = create_department(code="dpupr")
    assert routing_demo_load() == 2  # only dpupr's two rules: the other departments are absent
    assert routing_demo_load() == 0
    assert triage_unit().code == "biro-organisasi"
    assert routing_decide(None, "Jalan rusak parah").department.id == dpupr.id


# -- administration by staff: admin only, audited ----------------------------------------------


@pytest.mark.parametrize("role", ["officer", "triage", "dprd"])
def test_only_an_admin_manages_rules_and_the_triage_unit(app, role):
    from portal.services.errors import NotAuthorized
    from portal.services.feedback.routing import routing_rule_delete
    from tests.factories import create_user

    department = create_department(code="dpupr")
    rule = routing_rule_add("dpupr", "jalan rusak", 5, actor=CLI_OPERATOR)
    actor = create_user(role)
    with pytest.raises(NotAuthorized):
        routing_rule_add("dpupr", "jembatan", 1, actor=actor)
    with pytest.raises(NotAuthorized):
        routing_rule_delete(rule.id, actor=actor)
    with pytest.raises(NotAuthorized):
        routing_triage_unit_set(department.code, actor=actor)
    assert [r.phrase for r in routing_rule_list(CLI_OPERATOR)] == ["jalan rusak"]


def test_an_admins_changes_are_audited_with_who_and_what(app):
    from portal.models import AuditEntry
    from portal.services.feedback.routing import routing_rule_delete
    from tests.factories import create_user

    admin = create_user("admin")
    old_unit = create_triage_unit(code="ulp")
    department = create_department(code="dpupr")
    rule = routing_rule_add("dpupr", "Jalan  rusak", 10, actor=admin)
    routing_rule_delete(rule.id, actor=admin)
    routing_triage_unit_set("dpupr", actor=admin)
    entries = db.session.query(AuditEntry).order_by(AuditEntry.id).all()
    assert [(e.action, e.actor_username, e.from_state, e.to_state, e.detail) for e in entries] == [
        ("routing.rule_add", admin.username, None, "dpupr:10", "phrase=Jalan rusak"),
        ("routing.rule_delete", admin.username, "dpupr:10", None, "phrase=Jalan rusak"),
        ("routing.triage_unit", admin.username, "ulp", "dpupr", ""),
    ]
    assert all(e.department_id == department.id for e in entries)
    db.session.expire_all()
    assert db.session.get(Department, old_unit.id).is_triage_unit is False


@pytest.mark.parametrize("priority", [1001, -1001])
def test_a_priority_outside_the_range_is_refused(app, priority):
    create_department(code="dpupr")
    with pytest.raises(ValidationError):
        routing_rule_add("dpupr", "jalan", priority, actor=CLI_OPERATOR)
