"""The weekly DPRD digest: its content by commission, its recipients, once a week."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.models import JobRun, OutboxMessage, ServiceStatusChange, Subscription
from portal.services.outbox import outbox_send
from portal.services.subscriptions.digest import digest_week, dprd_digest_send
from portal.services.subscriptions.subscribe import subscription_request, subscription_target
from tests.accountability_support import create_feedback, move
from tests.conftest import free_port
from tests.factories import create_department, create_user
from tests.feedback_support import start_smtp
from tests.wfa_support import create_due_service, report_due

# Monday 23 November 2026, 10:00 WIB: the digest covers Monday 16 to Sunday 22 November.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=WIB)
WFA_START = date(2026, 10, 1)


def test_the_digest_covers_the_last_complete_week():
    assert digest_week(MONDAY) == (date(2026, 11, 16), date(2026, 11, 22))
    # Any day of the next week still covers the same week (a late run sends the same one).
    assert digest_week(datetime(2026, 11, 29, 23, 0, tzinfo=WIB)) == (
        date(2026, 11, 16), date(2026, 11, 22))


def _change(service, old: str, new: str, when: datetime) -> None:
    db.session.add(ServiceStatusChange(service_id=service.id, from_status=old, to_status=new,
                                       changed_at=when, reason_params="{}"))
    db.session.commit()


@pytest.fixture
def province(app):
    """Three departments (commission II, III, none) with news, and one quiet department."""
    revenue = create_department(code="bapenda", name_id="Badan Pendapatan Daerah",
                                name_en="Regional Revenue Agency", dprd_commission="II")
    health = create_department(code="dinkes", name_id="Dinas Kesehatan",
                               name_en="Health Office", dprd_commission="III")
    bureau = create_department(code="biro-umum", name_id="Biro Umum", name_en="General Bureau")
    quiet = create_department(code="dishub", name_id="Dinas Perhubungan",
                              name_en="Transport Office", dprd_commission="IV")
    tax = create_due_service(code="pkb", name_id="Pajak Kendaraan", name_en="Vehicle tax",
                             department=revenue)
    flip = create_due_service(code="bbnkb", name_id="Balik Nama", name_en="Transfer of title",
                              department=revenue)
    clinic = create_due_service(code="izin-klinik", name_id="Izin Klinik",
                                name_en="Clinic licence", department=health)
    create_due_service(code="terminal", name_id="Izin Trayek", name_en="Route permit",
                       department=quiet)
    # Vehicle tax got worse during the week; Transfer of title changed and changed back.
    _change(tax, "meeting", "at_risk", datetime(2026, 11, 18, 3, 0, tzinfo=UTC))
    _change(flip, "meeting", "at_risk", datetime(2026, 11, 17, 3, 0, tzinfo=UTC))
    _change(flip, "at_risk", "meeting", datetime(2026, 11, 19, 3, 0, tzinfo=UTC))
    # A change the week before is not this week's news.
    _change(clinic, "meeting", "breaching", datetime(2026, 11, 10, 3, 0, tzinfo=UTC))
    # The clinic licence moved to WFA on 1 October: all on time before, all late after, and
    # the after side reached 30 due requests only during the week: a new significant decline.
    report_due(clinic, date(2026, 7, 1), on_time=1, now=MONDAY)  # reporting start
    report_due(clinic, date(2026, 9, 1), on_time=40, now=MONDAY)
    move(clinic, "wfa", WFA_START)
    for day in range(17, 22):
        report_due(clinic, date(2026, 11, day), late=8, now=MONDAY)
    # Overdue feedback: two at the health office, one at the bureau, one answered in time.
    past = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
    for _ in range(2):
        create_feedback(clinic, status="routed", first_response_due=past)
    create_feedback(department=bureau, status="in_progress", resolution_due=past)
    create_feedback(clinic, status="routed", first_response_due=datetime(2026, 12, 30, tzinfo=UTC))
    return {"health": health, "bureau": bureau}


@pytest.fixture
def smtp_server(app, monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.config, "PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "PORTAL_SMTP_PORT", port)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_TIMEOUT", 5)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_USER", "")
    controller, sink = start_smtp(port)
    yield sink
    controller.stop()


def _subscribe_to_the_digest(address: str, lang: str) -> None:
    subscription_request(address, subscription_target("dprd_digest"), [], lang)
    subscription = db.session.scalar(select(Subscription).order_by(Subscription.id.desc()))
    subscription.confirm_token_hash = None
    subscription.confirm_expires_at = None
    subscription.confirmed_at = datetime(2026, 11, 1, tzinfo=UTC)
    db.session.commit()


def test_the_digest_goes_to_dprd_accounts_and_subscribers_grouped_by_commission(
        app, province, smtp_server):
    create_user(role="dprd", email="komisi@dprd.example.go.id")
    create_user(role="dprd", email="former@dprd.example.go.id", is_active=False)
    create_user(role="officer", email="officer@example.go.id")
    _subscribe_to_the_digest("peneliti@example.org", "en")
    # A DPRD member who also subscribed gets it once (as a subscriber, with an unsubscribe).
    create_user(role="dprd", email="Both@dprd.example.go.id")
    _subscribe_to_the_digest("both@dprd.example.go.id", "en")
    db.session.query(OutboxMessage).delete()  # the confirmation mails
    db.session.commit()

    summary = dprd_digest_send(now=MONDAY)
    assert summary.mails == 3 and summary.week == 202647
    outbox_send(now=MONDAY)
    received = {m["to"][0].lower(): email.message_from_string(m["data"],
                                                                policy=email.policy.default)
                for m in smtp_server.messages}
    assert set(received) == {"komisi@dprd.example.go.id", "peneliti@example.org",
                             "both@dprd.example.go.id"}

    dprd = received["komisi@dprd.example.go.id"]
    assert dprd["Content-Language"] == "id" and "List-Unsubscribe" not in dprd
    subscriber = received["peneliti@example.org"]
    assert subscriber["Content-Language"] == "en"
    assert subscriber["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["both@dprd.example.go.id"]["List-Unsubscribe"]

    text = subscriber.get_content()
    assert subscriber["Subject"] == "DPRD weekly digest, 16 November 2026 to 22 November 2026"
    sections = text.split("== ")
    headings = [s.split(" ==")[0] for s in sections[1:]]
    assert headings == ["Commission I", "Commission II", "Commission III", "Commission IV",
                        "Departments without a DPRD commission"]
    commission = dict(zip(headings, sections[1:], strict=True))
    assert "Nothing to report this week." in commission["Commission I"]
    assert "Nothing to report this week." in commission["Commission IV"]
    assert ('Vehicle tax: status changed from "Meeting its commitment" to "At risk".'
            in commission["Commission II"])
    assert "Transfer of title" not in text  # changed and changed back
    health = commission["Commission III"]
    assert "Health Office" in health
    assert "Clinic licence: a significant decline since its move to remote work" in health
    assert "breaching" not in health.lower()  # last week's change
    assert "2 feedback items are past a deadline." in health
    assert "General Bureau" in commission["Departments without a DPRD commission"]
    assert "1 feedback item is past a deadline." in text
    # Nothing names a citizen or quotes one.
    assert "Saya menunggu" not in text and "Antrean" not in text
    # The DPRD account's copy is built the same way, in Indonesian addresses.
    assert "/id/services/pkb" in dprd.get_content()


def test_the_digest_is_sent_once_a_week(app, province):
    create_user(role="dprd", email="komisi@dprd.example.go.id")
    assert dprd_digest_send(now=MONDAY).mails == 1
    again = dprd_digest_send(now=MONDAY.replace(day=24))
    assert again.already_sent and again.mails == 0
    assert db.session.query(OutboxMessage).count() == 1


def test_the_command_runs_as_a_recorded_job(app, runner, province):
    create_user(role="dprd", email="komisi@dprd.example.go.id")
    result = runner.invoke(args=["subscriptions", "digest"])
    assert result.exit_code == 0, result.output
    assert "mails queued" in result.output
    run = db.session.scalar(select(JobRun).where(JobRun.job == "subscriptions digest"))
    assert run is not None and run.outcome == "succeeded"


def test_without_commissions_in_the_catalogue_the_digest_is_not_grouped(app):
    department = create_department(code="dinkes", name_id="Dinas Kesehatan",
                                   name_en="Health Office")
    clinic = create_due_service(code="izin-klinik", name_en="Clinic licence",
                                department=department)
    _change(clinic, "meeting", "at_risk", datetime(2026, 11, 18, 3, 0, tzinfo=UTC))
    create_user(role="dprd", email="komisi@dprd.example.go.id")
    dprd_digest_send(now=MONDAY)
    body = db.session.scalar(select(OutboxMessage.body))
    assert "Komisi" not in body and "Commission" not in body
    assert body.count("== ") == 1 and "Dinas Kesehatan" in body
