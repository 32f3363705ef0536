"""Integrity reports (routing rule 0): to the integrity unit, unseen by the department concerned."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from portal.extensions import db
from portal.models import AuditEntry, Feedback, OutboxMessage
from portal.services.accountability.dprd_feedback import feedback_dprd_list
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import NotFound, ValidationError
from portal.services.feedback import handling
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.digest import feedback_digest
from portal.services.feedback.figures import feedback_figures
from portal.services.feedback.public_view import feedback_public_view
from portal.services.feedback.publishing import feedback_publish_requests
from portal.services.feedback.routing import (
    DEMO_INTEGRITY_PHRASES,
    integrity_phrase_add,
    integrity_phrase_delete,
    integrity_phrase_list,
    routing_demo_load,
    routing_integrity_unit_set,
    routing_rule_add,
)
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import FRIDAY_15_AUG, IDENTITY, create_triage_unit, valid_data


@pytest.fixture
def world(app):
    """Bapenda (with a service and an officer), the Inspektorat as integrity unit, triage."""
    class World:
        pass

    w = World()
    w.triage_unit = create_triage_unit()
    w.bapenda = create_department(code="bapenda", name_id="Badan Pendapatan Daerah")
    w.service = create_service(code="samsat-pkb", department=w.bapenda)
    w.inspektorat = create_department(code="inspektorat", name_id="Inspektorat Daerah",
                                      name_en="Regional Inspectorate")
    routing_integrity_unit_set("inspektorat", actor=CLI_OPERATOR)
    integrity_phrase_add("uang pelicin", actor=CLI_OPERATOR)
    w.bapenda_officer = create_user("officer", department=w.bapenda, email="b@example.go.id")
    w.inspector = create_user("officer", department=w.inspektorat, email="i@example.go.id")
    w.triage = create_user("triage", email="t@example.go.id")
    w.dprd = create_user("dprd")
    return w


def _bribe(w, **overrides):
    values = {"service": w.service.code, "subject": "Diminta uang di loket",
              "body": "Petugas meminta Rp200.000 agar STNK cepat selesai.", **IDENTITY}
    values.update(overrides)
    return feedback_submit(valid_data(**values), "id", now=FRIDAY_15_AUG)


def test_the_citizens_tick_sends_the_report_to_the_integrity_unit_not_the_service(world):
    feedback = _bribe(world, integrity=True)
    assert feedback.integrity is True
    assert feedback.routing_rule == "integrity"
    assert feedback.department_id == world.inspektorat.id
    assert feedback.concerned_department_id == world.bapenda.id
    # The reporter did not ask for confidentiality: an integrity report is confidential anyway.
    assert feedback.confidential is True


def test_an_integrity_phrase_in_the_text_makes_it_an_integrity_report(world):
    feedback = _bribe(world, body="Saya harus bayar UANG  pelicin, kalau tidak berkas ditahan.")
    assert (feedback.routing_rule, feedback.routing_detail) == ("integrity", "uang pelicin")
    assert feedback.department_id == world.inspektorat.id


def test_a_phrase_beats_an_ordinary_routing_rule_and_records_its_department(world):
    routing_rule_add("bapenda", "stnk", 10, actor=CLI_OPERATOR)
    feedback = feedback_submit(valid_data(subject="STNK", body="Ada uang pelicin di loket."),
                               "id", now=FRIDAY_15_AUG)
    assert feedback.department_id == world.inspektorat.id
    assert feedback.concerned_department_id == world.bapenda.id


def test_the_routing_reason_is_stored_and_told_to_the_citizen(world):
    feedback = _bribe(world, integrity=True)
    with force_locale("en"):  # as an English page or API answer asks
        view = feedback_public_view(feedback, "en")
    assert view.integrity is True
    assert view.routing_rule == "integrity"
    assert "You said your report is about corruption" in view.routing_reason
    assert "Regional Inspectorate" in view.routing_reason
    assert "The department concerned does not see your report" in view.routing_reason
    assert "Badan Pendapatan" not in str(view.as_json())


def test_without_an_integrity_unit_it_waits_for_the_triage_unit_never_the_department(app):
    create_triage_unit()
    service = create_service()
    feedback = feedback_submit(valid_data(service=service.code, integrity=True), "id")
    assert (feedback.department_id, feedback.status) == (None, "submitted")
    assert feedback.concerned_department_id == service.department_id


def test_the_department_concerned_never_sees_it_anywhere(world):
    feedback = _bribe(world, integrity=True, publish=True)
    officer = world.bapenda_officer
    # Not in its inbox, its counts, its publishing requests, and not found by id.
    assert handling.feedback_inbox(officer).total == 0
    assert handling.feedback_overdue_count(officer) == 0
    assert feedback_publish_requests(officer) == []
    with pytest.raises(NotFound):
        handling.feedback_for_staff(officer, feedback.id)
    with pytest.raises(NotFound):
        handling.feedback_answer(officer, feedback.id, "Kami cek.")
    # The integrity unit has it.
    assert [f.id for f in handling.feedback_inbox(world.inspector).items] == [feedback.id]
    # Figures per department count it for the integrity unit, never for Bapenda.
    figures = feedback_figures([world.bapenda.id, world.inspektorat.id],
                               date(2025, 8, 1), date(2025, 8, 31))
    assert figures[world.bapenda.id].submitted == 0
    assert figures[world.inspektorat.id].submitted == 1
    # The DPRD's list filtered by Bapenda does not hold it.
    assert feedback_dprd_list(world.dprd, department_id=world.bapenda.id).total == 0


def test_no_mail_and_no_digest_goes_to_the_department_concerned(world):
    feedback = _bribe(world, integrity=True)
    feedback_digest(now=feedback.resolution_due.replace(year=2026))
    recipients = {m.to_address for m in db.session.query(OutboxMessage)}
    assert "b@example.go.id" not in recipients
    assert "i@example.go.id" in recipients


def test_only_the_triage_unit_sees_the_reporter_not_even_the_integrity_unit(world):
    feedback = _bribe(world, integrity=True)
    assert not handling.feedback_identity_visible(world.inspector, feedback)
    assert handling.feedback_identity_visible(world.triage, feedback)


def test_it_moves_only_to_the_triage_unit_or_back_to_the_integrity_unit(world):
    feedback = _bribe(world, integrity=True)
    assert {d.code for d in handling.feedback_destinations(feedback)} == {"ulp", "inspektorat"}
    with pytest.raises(ValidationError) as refused, force_locale("en"):
        handling.feedback_transfer(world.inspector, feedback.id, "bapenda", "Urusan Bapenda.")
    assert "integrity unit or the triage unit" in str(refused.value)
    assert db.session.get(Feedback, feedback.id).department_id == world.inspektorat.id
    handling.feedback_transfer(world.inspector, feedback.id, "ulp", "Perlu ditelaah dulu.")
    assert feedback.department_id == world.triage_unit.id
    with pytest.raises(ValidationError):
        handling.feedback_transfer(world.triage, feedback.id, "bapenda", "Coba ke Bapenda.")
    handling.feedback_transfer(world.triage, feedback.id, "inspektorat", "Kembali ke Inspektorat.")
    assert feedback.department_id == world.inspektorat.id


def test_triage_routes_an_unrouted_integrity_report_only_to_the_integrity_unit(app):
    create_triage_unit()
    bapenda = create_department(code="bapenda")
    feedback = feedback_submit(valid_data(integrity=True), "id")
    create_department(code="inspektorat")
    routing_integrity_unit_set("inspektorat", actor=CLI_OPERATOR)
    triage = create_user("triage")
    with pytest.raises(ValidationError):
        handling.feedback_route(triage, feedback.id, bapenda.code)
    handling.feedback_route(triage, feedback.id, "inspektorat")
    assert feedback.status == "routed"


def test_ordinary_feedback_is_untouched_by_rule_0(world):
    feedback = feedback_submit(valid_data(service=world.service.code), "id")
    assert (feedback.routing_rule, feedback.integrity) == ("service", False)
    assert feedback.department_id == world.bapenda.id
    assert handling.feedback_destinations(feedback) is None


def test_integrity_phrases_are_kept_by_administrators_only_and_audited(world):
    officer = world.bapenda_officer
    from portal.services.errors import NotAuthorized

    with pytest.raises(NotAuthorized):
        integrity_phrase_add("pungli", actor=officer)
    admin = create_user("admin")
    item = integrity_phrase_add("  Pungli  ", actor=admin)
    assert item.phrase == "Pungli"
    with pytest.raises(ValidationError):
        integrity_phrase_add("pungli", actor=admin)  # the same phrase, another case
    with pytest.raises(ValidationError):
        integrity_phrase_add("x" * 201, actor=admin)
    assert [p.phrase for p in integrity_phrase_list(admin)] == ["Pungli", "uang pelicin"]
    integrity_phrase_delete(item.id, actor=admin)
    assert [p.phrase for p in integrity_phrase_list(admin)] == ["uang pelicin"]
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions.count("routing.integrity_add") == 2
    assert "routing.integrity_delete" in actions


def test_the_demo_sets_the_inspektorat_and_sample_phrases_once(app):
    create_department(code="biro-organisasi")
    create_department(code="inspektorat")
    routing_demo_load()
    routing_demo_load()
    phrases = [p.phrase for p in integrity_phrase_list(CLI_OPERATOR)]
    assert sorted(phrases) == sorted(DEMO_INTEGRITY_PHRASES)
    assert {"pungli", "suap", "uang pelicin", "gratifikasi", "pemerasan"} <= set(phrases)
    from portal.services.feedback.routing import integrity_unit

    assert integrity_unit().code == "inspektorat"
