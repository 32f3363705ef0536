"""Incidents and planned maintenance: open/update/resolve, disruption, permissions, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Incident, IncidentUpdate, Maintenance, User
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from portal.services.metrics.incidents import (
    incident_can_manage,
    incident_get,
    incident_list,
    incident_list_for_staff,
    incident_open,
    incident_update,
    maintenance_exists,
    maintenance_list,
    maintenance_list_for_staff,
    maintenance_schedule,
    open_incident_exists,
    service_ids_disrupted_now,
)
from tests.factories import create_department, create_service, create_user

# Actors are staff accounts; unsaved ones are enough where nothing refers to them by id.
ADMIN = User(username="admin", role="admin", department_id=None, is_active=True)
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 WIB


def officer_of(department, role: str = "officer") -> User:
    """Return a staff actor of a department."""
    return User(username=f"{role}-{department.code}", role=role,
                department_id=department.id, is_active=True)


def open_on(*services, impact: str = "major", actor=ADMIN, **kw) -> Incident:
    """Open an incident on services with believable texts."""
    return incident_open(
        actor, [s.code for s in services], impact,
        "Layanan daring tidak dapat diakses", "Online service unreachable",
        "Kami sedang menyelidiki.", "We are investigating.", **kw,
    )


def count(model: type) -> int:
    """Count the rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model))


# Open, update, resolve ------------------------------------------------------------------------


def test_open_stores_incident_services_and_first_update(app):
    department = create_department()
    pkb, bbn = create_service(department=department), create_service(department=department)

    incident = open_on(pkb, bbn, impact="outage", now=T0)

    stored = incident_get(incident.id)
    assert (stored.impact, stored.state, stored.started_at, stored.resolved_at) == (
        "outage", "investigating", T0, None
    )
    assert {s.code for s in stored.services} == {pkb.code, bbn.code}
    assert stored.department_id == department.id
    assert stored.created_by == "admin"
    assert [(u.state, u.body_id, u.body_en, u.created_at) for u in stored.updates] == [
        ("investigating", "Kami sedang menyelidiki.", "We are investigating.", T0)
    ]


def test_incident_on_services_of_two_departments_has_no_single_department(app):
    a, b = create_service(), create_service()

    incident = open_on(a, b)

    assert incident.department_id is None


def test_update_flow_keeps_the_timeline_in_order_and_resolving_sets_resolved_at(app):
    service = create_service()
    incident = open_on(service, now=T0)

    incident_update(ADMIN, incident.id, "identified", "Penyebab ditemukan.", "Cause found.",
                    now=T0 + timedelta(minutes=30))
    incident_update(ADMIN, incident.id, "monitoring", "Perbaikan dipasang.", "Fix deployed.",
                    now=T0 + timedelta(hours=1))
    incident_update(ADMIN, incident.id, "resolved", "Layanan pulih.", "Service restored.",
                    now=T0 + timedelta(hours=2))

    stored = incident_get(incident.id)
    assert [u.state for u in stored.updates] == [
        "investigating", "identified", "monitoring", "resolved"
    ]
    assert stored.state == "resolved"
    assert stored.resolved_at == T0 + timedelta(hours=2)
    assert stored.latest_update.body_en == "Service restored."


def test_a_second_resolved_update_keeps_the_first_resolution_time(app):
    incident = open_on(create_service(), now=T0)
    incident_update(ADMIN, incident.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(hours=1))

    incident_update(ADMIN, incident.id, "resolved", "Catatan akhir.", "Post-mortem.",
                    now=T0 + timedelta(hours=5))

    assert incident_get(incident.id).resolved_at == T0 + timedelta(hours=1)


def test_an_unresolved_update_reopens_a_resolved_incident(app):
    incident = open_on(create_service(), now=T0)
    incident_update(ADMIN, incident.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(hours=1))

    incident_update(ADMIN, incident.id, "investigating", "Gangguan kembali.", "It is back.",
                    now=T0 + timedelta(hours=2))

    stored = incident_get(incident.id)
    assert (stored.state, stored.resolved_at, stored.is_open) == ("investigating", None, True)


def test_update_of_unknown_incident_is_not_found(app):
    with pytest.raises(NotFound):
        incident_update(ADMIN, 999, "resolved", "x", "x")


def test_incident_get_of_a_non_number_is_not_found(app):
    with pytest.raises(NotFound):
        incident_get("abc")


# Disruption -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impact", "disrupts"), [("minor", False), ("major", True), ("outage", True)]
)
def test_only_open_major_or_outage_incidents_disrupt(app, impact, disrupts):
    named, other = create_service(), create_service()

    open_on(named, impact=impact)

    assert service_ids_disrupted_now() == ({named.id} if disrupts else set())
    assert other.id not in service_ids_disrupted_now()


def test_resolved_incident_stops_disrupting(app):
    a, b = create_service(), create_service()
    incident = open_on(a, b, impact="outage", now=T0)
    assert service_ids_disrupted_now() == {a.id, b.id}

    incident_update(ADMIN, incident.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(hours=1))

    assert service_ids_disrupted_now() == set()


def test_a_service_named_by_two_open_incidents_stays_disrupted_until_both_resolve(app):
    service = create_service()
    first = open_on(service, now=T0)
    open_on(service, impact="outage", now=T0)

    incident_update(ADMIN, first.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(hours=1))

    assert service_ids_disrupted_now() == {service.id}


# Listing --------------------------------------------------------------------------------------


def test_list_puts_open_incidents_first_then_the_most_recent(app):
    service = create_service()
    old_open = open_on(service, now=T0)
    recent_resolved = open_on(service, now=T0 + timedelta(days=2))
    incident_update(ADMIN, recent_resolved.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(days=2, hours=1))
    older_resolved = open_on(service, now=T0 - timedelta(days=5))
    incident_update(ADMIN, older_resolved.id, "resolved", "Pulih.", "Restored.",
                    now=T0 - timedelta(days=4))
    newest_open = open_on(service, now=T0 + timedelta(days=1))

    ids = [i.id for i in incident_list()]

    assert ids == [newest_open.id, old_open.id, recent_resolved.id, older_resolved.id]
    assert [i.id for i in incident_list(include_resolved=False)] == [newest_open.id, old_open.id]
    assert len(incident_list(limit=2)) == 2


def test_list_filters_by_service_and_department(app):
    department = create_department()
    mine = create_service(department=department)
    other = create_service()
    on_mine = open_on(mine)
    on_other = open_on(other)
    on_both = open_on(mine, other)

    assert {i.id for i in incident_list(service=mine.code)} == {on_mine.id, on_both.id}
    assert {i.id for i in incident_list(service=other)} == {on_other.id, on_both.id}
    assert {i.id for i in incident_list(department=department.code)} == {on_mine.id, on_both.id}
    assert incident_list(service="no-such-service") == []
    assert incident_list(department="no-such-department") == []


# Permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "own_department", "allowed"),
    [
        ("admin", False, True),
        ("officer", True, True),
        ("officer", False, False),
        ("triage", True, False),
        ("dprd", True, False),
        ("dprd", False, False),
        ("citizen", True, False),
    ],
)
def test_who_may_open_an_incident(app, role, own_department, allowed):
    department = create_department()
    service = create_service(department=department)
    home = department if own_department else create_department()
    actor = User(username="someone", role=role, department_id=home.id, is_active=True)

    if allowed:
        open_on(service, actor=actor)
        assert count(Incident) == 1
    else:
        with pytest.raises(NotAuthorized):
            open_on(service, actor=actor)
        assert count(Incident) == 0


def test_officer_may_not_open_an_incident_naming_another_departments_service(app):
    department = create_department()
    mine = create_service(department=department)
    theirs = create_service()

    with pytest.raises(NotAuthorized):
        open_on(mine, theirs, actor=officer_of(department))
    assert count(Incident) == 0


def test_no_actor_is_refused(app):
    with pytest.raises(NotAuthorized):
        open_on(create_service(), actor=None)


@pytest.mark.parametrize(
    ("role", "own_department", "allowed"),
    [
        ("admin", False, True),
        ("officer", True, True),
        ("officer", False, False),
        ("dprd", True, False),
        ("triage", True, False),
    ],
)
def test_who_may_update_an_incident(app, role, own_department, allowed):
    department = create_department()
    incident = open_on(create_service(department=department))
    home = department if own_department else create_department()
    actor = User(username="someone", role=role, department_id=home.id, is_active=True)

    assert incident_can_manage(actor, incident_get(incident.id)) is allowed
    if allowed:
        incident_update(actor, incident.id, "resolved", "Pulih.", "Restored.")
        assert incident_get(incident.id).state == "resolved"
    else:
        with pytest.raises(NotAuthorized):
            incident_update(actor, incident.id, "resolved", "Pulih.", "Restored.")
        assert count(IncidentUpdate) == 1


@pytest.mark.parametrize(
    ("role", "own_department", "allowed"),
    [("admin", False, True), ("officer", True, True), ("officer", False, False),
     ("dprd", True, False)],
)
def test_who_may_schedule_maintenance(app, role, own_department, allowed):
    department = create_department()
    service = create_service(department=department)
    home = department if own_department else create_department()
    actor = User(username="someone", role=role, department_id=home.id, is_active=True)

    def schedule() -> None:
        maintenance_schedule(actor, [service.code], T0, T0 + timedelta(hours=2), "Pemeliharaan")

    if allowed:
        schedule()
        assert count(Maintenance) == 1
    else:
        with pytest.raises(NotAuthorized):
            schedule()
        assert count(Maintenance) == 0


# Validation -----------------------------------------------------------------------------------


def fields_of(error: ValidationError) -> set[str]:
    """Return the fields a validation error names."""
    return {e.field for e in error.errors}


def test_open_validation_names_every_bad_field_and_writes_nothing(app):
    with pytest.raises(ValidationError) as caught:
        incident_open(ADMIN, [], "severe", "", "", " ", "", state="sleeping")

    assert fields_of(caught.value) == {"services", "impact", "state", "title_id", "body_id"}
    assert count(Incident) == 0


def test_open_refuses_unknown_services_and_starting_resolved(app):
    service = create_service()

    with pytest.raises(ValidationError) as caught:
        incident_open(ADMIN, [service.code, "nope"], "major", "Judul", "", "Isi", "",
                      state="resolved")

    assert fields_of(caught.value) == {"services", "state"}
    assert "nope" in str(caught.value)


def test_open_refuses_too_long_title(app):
    with pytest.raises(ValidationError) as caught:
        incident_open(ADMIN, [create_service().code], "major", "x" * 201, "", "Isi", "")
    assert fields_of(caught.value) == {"title_id"}


def test_english_texts_are_optional(app):
    incident = incident_open(ADMIN, [create_service().code], "minor", "Judul", "", "Isi", "")
    assert (incident.title_en, incident.updates[0].body_en) == ("", "")


def test_update_validation(app):
    incident = open_on(create_service(), now=T0)

    with pytest.raises(ValidationError) as caught:
        incident_update(ADMIN, incident.id, "done", "", "")
    assert fields_of(caught.value) == {"state", "body_id"}

    with pytest.raises(ValidationError) as caught:
        incident_update(ADMIN, incident.id, "identified", "Isi", "", now=T0 - timedelta(hours=1))
    assert fields_of(caught.value) == {"now"}
    assert count(IncidentUpdate) == 1


def test_naive_time_is_refused(app):
    with pytest.raises(ValidationError) as caught:
        open_on(create_service(), now=datetime(2026, 3, 2, 10, 0))
    assert fields_of(caught.value) == {"now"}


# Maintenance ----------------------------------------------------------------------------------


def test_schedule_stores_an_aware_window_in_utc(app):
    service = create_service()
    wib = timezone(timedelta(hours=7))

    maintenance = maintenance_schedule(
        ADMIN, [service.code], datetime(2026, 3, 7, 22, 0, tzinfo=wib),
        datetime(2026, 3, 8, 2, 0, tzinfo=wib), "Pemeliharaan server", "Server maintenance",
        "Layanan daring tidak tersedia.", "The online service is unavailable.",
    )

    stored = db.session.get(Maintenance, maintenance.id)
    assert (stored.starts_at, stored.ends_at) == (
        datetime(2026, 3, 7, 15, 0, tzinfo=UTC), datetime(2026, 3, 7, 19, 0, tzinfo=UTC)
    )
    assert [s.code for s in stored.services] == [service.code]
    assert stored.created_by == "admin"


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "bad"),
    [
        (T0, T0, {"ends_at"}),
        (T0, T0 - timedelta(minutes=1), {"ends_at"}),
        (T0, T0 + timedelta(days=32), {"ends_at"}),
        (datetime(2026, 3, 2, 10, 0), T0, {"starts_at"}),
        (T0, datetime(2026, 3, 2, 12, 0), {"ends_at"}),
        (None, T0, {"starts_at"}),
    ],
)
def test_schedule_refuses_bad_windows(app, starts_at, ends_at, bad):
    service = create_service()

    with pytest.raises(ValidationError) as caught:
        maintenance_schedule(ADMIN, [service.code], starts_at, ends_at, "Pemeliharaan")

    assert fields_of(caught.value) == bad
    assert count(Maintenance) == 0


def test_maintenance_list_splits_upcoming_ongoing_and_past(app):
    service = create_service()
    now = T0
    past = maintenance_schedule(ADMIN, [service.code], now - timedelta(hours=3),
                                now - timedelta(hours=1), "Lalu")
    # Ending exactly now is past; starting exactly now is ongoing.
    just_ended = maintenance_schedule(ADMIN, [service.code], now - timedelta(hours=1), now,
                                      "Baru selesai")
    ongoing = maintenance_schedule(ADMIN, [service.code], now, now + timedelta(hours=1),
                                   "Berlangsung")
    later = maintenance_schedule(ADMIN, [service.code], now + timedelta(days=2),
                                 now + timedelta(days=2, hours=1), "Nanti")
    soon = maintenance_schedule(ADMIN, [service.code], now + timedelta(days=1),
                                now + timedelta(days=1, hours=1), "Segera")

    def ids(when: str | None) -> list[int]:
        return [m.id for m in maintenance_list(when=when, now=now)]

    assert ids("upcoming") == [soon.id, later.id]
    assert ids("ongoing") == [ongoing.id]
    assert ids("current") == [ongoing.id, soon.id, later.id]
    assert ids("past") == [just_ended.id, past.id]
    assert ids(None) == [later.id, soon.id, ongoing.id, just_ended.id, past.id]


def test_maintenance_list_filters_by_service_and_department(app):
    department = create_department()
    mine, other = create_service(department=department), create_service()
    on_mine = maintenance_schedule(ADMIN, [mine.code], T0, T0 + timedelta(hours=1), "A")
    on_other = maintenance_schedule(ADMIN, [other.code], T0, T0 + timedelta(hours=1), "B")

    assert [m.id for m in maintenance_list(service=mine.code)] == [on_mine.id]
    assert [m.id for m in maintenance_list(service=other.id)] == [on_other.id]
    assert [m.id for m in maintenance_list(department=department)] == [on_mine.id]


def test_maintenance_list_rejects_an_unknown_period(app):
    with pytest.raises(ValueError):
        maintenance_list(when="tomorrow")


def test_staff_lists_show_what_the_actor_manages(app):
    department = create_department()
    mine, other = create_service(department=department), create_service()
    work_mine = maintenance_schedule(ADMIN, [mine.code], T0, T0 + timedelta(hours=1), "A")
    work_other = maintenance_schedule(ADMIN, [other.code], T0, T0 + timedelta(hours=1), "B")
    incident_mine, incident_other = open_on(mine, now=T0), open_on(other, now=T0)
    officer = staff_user("officer", department)
    admin = staff_user("admin")

    def maintenance_ids(actor) -> set[int]:
        return {m.id for m in maintenance_list_for_staff(actor, when=None)}

    def incident_ids(actor) -> set[int]:
        return {i.id for i in incident_list_for_staff(actor)}

    assert maintenance_ids(officer) == {work_mine.id}
    assert maintenance_ids(admin) == {work_mine.id, work_other.id}
    assert incident_ids(officer) == {incident_mine.id}
    assert incident_ids(admin) == {incident_mine.id, incident_other.id}
    for refused in (staff_user("triage"), staff_user("dprd"), None):
        with pytest.raises(NotAuthorized):
            maintenance_list_for_staff(refused)
        with pytest.raises(NotAuthorized):
            incident_list_for_staff(refused)


# Real staff accounts and the audit log --------------------------------------------------------


def staff_user(role: str, department=None, active: bool = True):
    """Create a staff account of the staff-accounts model."""
    return create_user(role, department=department, is_active=active)


@pytest.mark.parametrize(
    ("role", "own_department", "active", "allowed"),
    [
        ("admin", False, True, True),
        ("officer", True, True, True),
        ("officer", True, False, False),
        ("officer", False, True, False),
        ("triage", True, True, False),
        ("dprd", False, True, False),
    ],
)
def test_permissions_hold_for_real_staff_accounts(app, role, own_department, active, allowed):
    department = create_department()
    service = create_service(department=department)
    user = staff_user(role, department if own_department else create_department(), active)

    if allowed:
        open_on(service, actor=user)
    else:
        with pytest.raises(NotAuthorized):
            open_on(service, actor=user)


def test_opening_updating_and_scheduling_are_audited(app):
    from portal.models.users import AuditEntry

    department = create_department()
    service = create_service(department=department)
    officer = staff_user("officer", department)

    incident = open_on(service, actor=officer, now=T0)
    incident_update(officer, incident.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(hours=1))
    maintenance = maintenance_schedule(officer, [service.code], T0, T0 + timedelta(hours=1),
                                       "Pemeliharaan")

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.object_id, e.from_state, e.to_state, e.actor_username,
             e.department_id) for e in entries] == [
        ("incident_open", str(incident.id), None, "investigating", officer.username,
         department.id),
        ("incident_update", str(incident.id), "investigating", "resolved", officer.username,
         department.id),
        ("maintenance_schedule", str(maintenance.id), None, None, officer.username,
         department.id),
    ]


def test_list_of_only_resolved_incidents_is_the_history(app):
    service = create_service()
    open_on(service, now=T0)
    resolved = open_on(service, now=T0)
    incident_update(ADMIN, resolved.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(hours=1))

    assert [i.id for i in incident_list(only_resolved=True)] == [resolved.id]


def test_programs_are_told_the_literal_code_values(app):
    from flask_babel import force_locale

    incident = open_on(create_service(), now=T0)
    with force_locale("en"):
        with pytest.raises(ValidationError) as opened:
            incident_open(ADMIN, [create_service().code], "severe", "Judul", "", "Isi", "",
                          state="resolved")
        with pytest.raises(ValidationError) as updated:
            incident_update(ADMIN, incident.id, "done", "Isi", "")
    messages = {e.field: e.error for e in opened.value.errors}
    assert messages == {
        "impact": 'must be one of "minor", "major", "outage"',
        "state": "A new incident must be in the state investigating, identified or monitoring.",
    }
    assert [e.error for e in updated.value.errors] == [
        'must be one of "investigating", "identified", "monitoring", "resolved"']


@pytest.mark.parametrize("offset_hours", [-4, -2, -1, 0, 1, 30])
def test_maintenance_exists_exactly_when_the_list_finds_some(app, offset_hours):
    # A page asks whether there is maintenance before listing it (one statement for what is
    # usually empty): the answer must be the list's, for every period, service and instant.
    mine, other = create_service(), create_service()
    maintenance_schedule(ADMIN, [mine.code], T0 - timedelta(hours=3), T0 - timedelta(hours=1),
                         "Lalu")
    maintenance_schedule(ADMIN, [mine.code], T0, T0 + timedelta(hours=1), "Berlangsung")
    maintenance_schedule(ADMIN, [other.code], T0 + timedelta(days=1),
                         T0 + timedelta(days=1, hours=1), "Nanti")
    now = T0 + timedelta(hours=offset_hours)
    for when in ("upcoming", "ongoing", "past", "current"):
        listed = bool(maintenance_list(when=when, now=now))
        assert bool(db.session.scalar(select(maintenance_exists(when, now)))) is listed
        for service in (mine, other, create_service()):
            listed = bool(maintenance_list(service=service, when=when, now=now))
            found = bool(db.session.scalar(select(maintenance_exists(when, now, service.id))))
            assert found is listed, (when, offset_hours)


def test_an_open_incident_exists_exactly_when_the_list_of_open_ones_finds_some(app):
    minor_on, resolved_on, quiet = create_service(), create_service(), create_service()

    def agree() -> None:
        assert bool(db.session.scalar(select(open_incident_exists()))) is bool(
            incident_list(include_resolved=False))
        for service in (minor_on, resolved_on, quiet):
            assert bool(db.session.scalar(select(open_incident_exists(service.id)))) is bool(
                incident_list(service=service, include_resolved=False))

    agree()
    resolved = open_on(resolved_on, now=T0)
    incident_update(ADMIN, resolved.id, "resolved", "Pulih.", "Restored.",
                    now=T0 + timedelta(hours=1))
    agree()
    open_on(minor_on, impact="minor", now=T0)
    agree()
    assert bool(db.session.scalar(select(open_incident_exists(minor_on.id))))
    assert not db.session.scalar(select(open_incident_exists(quiet.id)))
