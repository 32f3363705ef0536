"""E-mail subscriptions end to end: the form, the mail over a real SMTP server (aiosmtpd),
confirmation, notifications, one-click unsubscribe, and the address kept out of public output."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models import (
    OutboxMessage,
    ServiceStatus,
    ServiceStatusChange,
    Subscription,
    SubscriptionNotice,
)
from portal.services.metrics.incidents import (
    incident_open,
    incident_update,
    maintenance_schedule,
)
from portal.services.metrics.status import status_refresh
from portal.services.outbox import outbox_send
from portal.services.subscriptions.notify import subscriptions_notify
from portal.services.subscriptions.subscribe import (
    subscription_confirm,
    subscription_request,
    subscription_target,
    subscription_unsubscribe,
    unsubscribe_url,
)
from portal.services.subscriptions.tokens import token_hash
from tests.conftest import free_port
from tests.factories import (
    create_department,
    create_service,
    create_user,
    csrf_token_from,
    login,
)
from tests.feedback_support import start_smtp

ADDRESS = "pelanggan.rahasia@example.org"


@pytest.fixture
def smtp_server(app, monkeypatch):
    """A real SMTP server on loopback that the outbox sends to."""
    port = free_port()
    monkeypatch.setitem(app.config, "PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "PORTAL_SMTP_PORT", port)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_TIMEOUT", 5)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_USER", "")
    controller, sink = start_smtp(port)
    yield sink
    controller.stop()


@pytest.fixture
def service(app):
    department = create_department(code="dukcapil", name_id="Dinas Kependudukan",
                                   name_en="Civil Registry Office")
    return create_service(code="ktp-el", name_id="Perekaman KTP-el",
                          name_en="e-ID card recording", department=department)


def _parsed(message: dict) -> email.message.EmailMessage:
    return email.message_from_string(message["data"], policy=email.policy.default)


def _mails_to(sink, address: str = ADDRESS) -> list[email.message.EmailMessage]:
    return [_parsed(m) for m in sink.messages if address in m["to"]]


def _deliver() -> None:
    """Send what the outbox holds (as the every-minute job does)."""
    outbox_send(now=utc_now() + timedelta(seconds=1))


def _status_changes_to_no_data(service) -> None:
    """Make the stored status "meeting", then refresh: silence makes it "no_data" (a change)."""
    row = db.session.get(ServiceStatus, service.id)
    if row is None:
        row = ServiceStatus(service_id=service.id, status="meeting", reason_params="{}",
                            metrics='{"due":0}')
        db.session.add(row)
    row.status = "meeting"
    row.reason_params = '{"data_status":"meeting"}'
    db.session.commit()
    status_refresh([service.id])


def _subscribe_through_the_form(client, path: str, **fields) -> object:
    page = client.get(path)
    assert page.status_code == 200
    data = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), "email": ADDRESS,
            "topic_status": "y", "topic_incidents": "y", "topic_maintenance": "y"}
    data.update(fields)
    return client.post(path, data=data)


def _link(body: str, pattern: str) -> str:
    match = re.search(pattern, body)
    assert match, body
    return match.group(0)


def test_subscribe_confirm_notify_and_unsubscribe_in_one_click(app, client, service,
                                                                smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    answer = _subscribe_through_the_form(client, "/en/subscribe?service=ktp-el")
    assert answer.status_code == 303
    sent_page = client.get(answer.headers["Location"])
    assert "Check your mailbox" in sent_page.get_data(as_text=True)
    _deliver()

    # Only the confirmation link arrives, in English (the page's language).
    (confirmation,) = _mails_to(smtp_server)
    assert confirmation["Content-Language"] == "en"
    assert "List-Unsubscribe" not in confirmation
    body = confirmation.get_content()
    assert "e-ID card recording" in body
    confirm_url = _link(body, r"http://\S+/en/subscriptions/confirm/\S+")

    # Nothing is sent before confirmation, whatever happens to the service.
    _status_changes_to_no_data(service)
    assert db.session.scalar(select(func.count(ServiceStatusChange.id))) == 1
    subscriptions_notify()
    _deliver()
    assert len(_mails_to(smtp_server)) == 1

    # Opening the link shows a button; it does not confirm by itself (mail scanners open links).
    path = confirm_url.removeprefix(app.config["PORTAL_BASE_URL"])
    button = client.get(path)
    assert button.status_code == 200
    assert db.session.scalar(select(Subscription.confirmed_at)) is None
    done = client.post(path, data={"csrf_token": csrf_token_from(button.get_data(as_text=True))})
    assert done.status_code == 200
    assert "Subscription confirmed" in done.get_data(as_text=True)

    # A status change now sends one notification with the one-click unsubscribe headers.
    _status_changes_to_no_data(service)
    summary = subscriptions_notify()
    assert summary.mails == 1
    _deliver()
    mails = _mails_to(smtp_server)
    assert len(mails) == 2
    notice = mails[1]
    assert notice["Content-Language"] == "en"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = notice["List-Unsubscribe"].strip("<>")
    assert re.fullmatch(r"http://\S+/en/unsubscribe/[A-Za-z0-9_-]{43}", unsubscribe_url)
    text = notice.get_content()
    assert "e-ID card recording" in text and "No data" in text
    assert unsubscribe_url in text

    # The token is stored only as its hash.
    stored = db.session.scalar(select(Subscription))
    token = unsubscribe_url.rsplit("/", 1)[1]
    assert stored.unsubscribe_token_hash == token_hash(token)
    assert token not in repr([getattr(stored, c.key) for c in Subscription.__table__.columns])

    # The address shows on no public page or API answer, and in no log line.
    package = client.get("/data/datapackage.json").get_json()
    downloads = ["/data/" + resource["path"].rsplit("/", 1)[-1]
                 for resource in package["resources"]]
    for public in ("/en/services/ktp-el", "/id/services/ktp-el", "/en/departments/dukcapil",
                   "/en/", "/api/v1/services/ktp-el", "/api/v1/services",
                   "/en/subscribe/sent?service=ktp-el", "/en/incidents.atom",
                   "/en/services/ktp-el/feed.atom", "/en/departments/dukcapil/feed.atom",
                   "/data/catalog.jsonld", *downloads):
        answer = client.get(public)
        assert answer.status_code == 200, public
        assert ADDRESS not in answer.get_data(as_text=True), public
    used = client.get(path)  # a used confirmation link is unknown, and names nobody
    assert used.status_code == 404 and ADDRESS not in used.get_data(as_text=True)
    portal_lines = "\n".join(r.getMessage() for r in caplog.records
                              if r.name.startswith("portal"))
    assert "/en/subscriptions/confirm/" in portal_lines  # the request lines are there...
    assert ADDRESS not in portal_lines
    assert path.rsplit("/", 1)[1] not in portal_lines  # ...with the token masked

    # A mail client's one-click POST, without a session or a CSRF token, unsubscribes.
    one_click = app.test_client().post(
        unsubscribe_url.removeprefix(app.config["PORTAL_BASE_URL"]),
        data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert token not in "\n".join(r.getMessage() for r in caplog.records
                                  if r.name.startswith("portal"))
    assert db.session.scalar(select(func.count(Subscription.id))) == 0

    # And no more mail follows.
    _status_changes_to_no_data(service)
    assert subscriptions_notify().mails == 0
    _deliver()
    assert len(_mails_to(smtp_server)) == 2


def test_a_get_of_the_unsubscribe_link_only_asks(app, client, service):
    target = subscription_target("service", "ktp-el")
    subscription_request(ADDRESS, target, ["status"], "id")
    subscription = db.session.scalar(select(Subscription))
    path = unsubscribe_url(subscription).removeprefix(app.config["PORTAL_BASE_URL"])
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    assert 'method="post"' in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Subscription.id))) == 1
    assert client.get("/id/unsubscribe/not-a-real-token").status_code == 404


def test_the_form_is_refused_without_its_csrf_token(client, service):
    answer = client.post("/en/subscribe?service=ktp-el",
                         data={"email": ADDRESS, "topic_status": "y"})
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count(Subscription.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_the_confirmation_button_needs_its_csrf_token(app, client, service):
    subscription_request(ADDRESS, subscription_target("service", "ktp-el"), ["status"], "en")
    body = db.session.scalar(select(OutboxMessage.body))
    path = _link(body, r"http://\S+/en/subscriptions/confirm/\S+").removeprefix(
        app.config["PORTAL_BASE_URL"])
    assert client.post(path, data={}).status_code == 400
    assert db.session.scalar(select(Subscription.confirmed_at)) is None


def test_subscription_requests_are_rate_limited(app, client, service, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "PORTAL_SUBSCRIPTION_RATE_LIMIT", "2 per hour")
    statuses = [
        _subscribe_through_the_form(client, "/en/subscribe?service=ktp-el",
                                    email=f"warga{n}@example.org").status_code
        for n in range(3)
    ]
    assert statuses == [303, 303, 429]


def test_one_address_gets_at_most_three_confirmation_mails_a_day(client, service):
    for _ in range(5):
        assert _subscribe_through_the_form(client, "/en/subscribe?service=ktp-el"
                                           ).status_code == 303
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3


def test_an_expired_confirmation_link_subscribes_nobody(app, client, service):
    long_ago = utc_now() - timedelta(days=3)
    subscription_request(ADDRESS, subscription_target("service", "ktp-el"), ["status"], "en",
                         now=long_ago)
    body = db.session.scalar(select(OutboxMessage.body))
    path = _link(body, r"http://\S+/en/subscriptions/confirm/\S+").removeprefix(
        app.config["PORTAL_BASE_URL"])
    page = client.get(path)
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    # The next run deletes it, address and all.
    assert subscriptions_notify().expired == 1
    assert db.session.scalar(select(func.count(Subscription.id))) == 0
    assert client.get(path).status_code == 404


def test_invalid_input_is_shown_on_the_form(client, service):
    page = client.get("/en/subscribe?service=ktp-el")
    token = csrf_token_from(page.get_data(as_text=True))
    answer = client.post("/en/subscribe?service=ktp-el",
                         data={"csrf_token": token, "email": "not an address"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "There is a problem" in html
    assert "Choose at least one kind of news." in html
    assert client.get("/en/subscribe?service=no-such-service").status_code == 404


def _confirmed(scope: str, code: str | None = None, topics=("status", "incidents", "maintenance"),
               lang: str = "en", address: str = ADDRESS) -> Subscription:
    subscription_request(address, subscription_target(scope, code), list(topics), lang)
    subscription = db.session.scalar(
        select(Subscription).where(Subscription.confirmed_at.is_(None))
        .order_by(Subscription.id.desc()))
    token = "confirm-" + str(subscription.id)
    subscription.confirm_token_hash = token_hash(token)
    db.session.commit()
    return subscription_confirm(token)


def test_each_subscriber_hears_only_of_their_scope_and_topics(app, service, smtp_server):
    other = create_service(code="akta", name_en="Birth certificates")
    _confirmed("service", "ktp-el", address="service@example.org")
    _confirmed("department", "dukcapil", topics=("status",), address="dept@example.org")
    _confirmed("province", topics=("maintenance",), address="province@example.org")
    _confirmed("service", "akta", address="other@example.org")
    admin = create_user(role="admin")

    _status_changes_to_no_data(service)
    incident_open(admin, ["ktp-el"], "minor", "Gangguan jaringan", "Network fault",
                  "Sedang diperiksa.", "Being looked into.")
    now = utc_now()
    maintenance_schedule(admin, ["ktp-el", "akta"], now + timedelta(days=1),
                         now + timedelta(days=1, hours=2), "Pemeliharaan server",
                         "Server maintenance")
    summary = subscriptions_notify()
    assert summary.events == 3
    _deliver()
    subjects = {m["to"][0]: _parsed(m)["Subject"] for m in smtp_server.messages}
    assert subjects["service@example.org"] == "3 updates about the service e-ID card recording"
    assert subjects["dept@example.org"] == "e-ID card recording: No data"
    assert subjects["province@example.org"] == "Planned maintenance: Server maintenance"
    assert subjects["other@example.org"] == "Planned maintenance: Server maintenance"
    assert other.id
    # Announced once: a second run finds nothing new.
    assert subscriptions_notify().events == 0
    assert db.session.scalar(select(func.count(SubscriptionNotice.id))) == 3


def test_a_disruption_reaches_incident_followers_once(app, service, smtp_server):
    _confirmed("service", "ktp-el", topics=("status", "incidents"), address="both@example.org")
    _confirmed("service", "ktp-el", topics=("status",), address="status@example.org")
    admin = create_user(role="admin")
    status_refresh([service.id])  # the first evaluation: no change yet
    incident_open(admin, ["ktp-el"], "outage", "Layanan mati", "Service down",
                  "Diperiksa.", "Looking into it.")
    status_refresh([service.id])  # now disrupted: a stored change
    subscriptions_notify()
    _deliver()
    subjects = {m["to"][0]: _parsed(m)["Subject"] for m in smtp_server.messages}
    assert subjects == {"both@example.org": "Incident: Service down",
                        "status@example.org": "e-ID card recording: Disrupted"}


def test_mail_is_written_in_the_subscribers_language(app, service, smtp_server):
    _confirmed("service", "ktp-el", topics=("status",), lang="id")
    _status_changes_to_no_data(service)
    subscriptions_notify()
    _deliver()
    confirmation, mail = _mails_to(smtp_server)
    assert confirmation["Content-Language"] == "id"
    assert mail["Content-Language"] == "id"
    assert mail["Subject"].startswith("Perekaman KTP-el")
    assert "/id/unsubscribe/" in mail["List-Unsubscribe"]


def test_confirming_again_replaces_the_earlier_choice(service):
    _confirmed("service", "ktp-el", topics=("status",))
    _confirmed("service", "ktp-el", topics=("incidents",))
    (only,) = db.session.scalars(select(Subscription)).all()
    assert only.topics() == ("incidents",)


def test_unsubscribing_cancels_queued_mail_and_forgets_the_address(app, service, smtp_server):
    subscription = _confirmed("service", "ktp-el", topics=("status",))
    token = unsubscribe_url(subscription).rsplit("/", 1)[1]
    _status_changes_to_no_data(service)
    assert subscriptions_notify().mails == 1  # queued, not sent yet
    assert subscription_unsubscribe(token)
    _deliver()
    # Only the confirmation link was ever sent.
    assert [m["Subject"] for m in _mails_to(smtp_server)] == [
        "Confirm your subscription to the service e-ID card recording"]
    assert not db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "subscription.notice"))


def test_sent_subscription_mail_is_forgotten_after_a_week(app, service, smtp_server):
    _confirmed("service", "ktp-el", topics=("status",))
    _deliver()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    subscriptions_notify(now=utc_now() + timedelta(days=6))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    subscriptions_notify(now=utc_now() + timedelta(days=8))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert ADDRESS in db.session.scalar(select(Subscription.email))  # the subscription stays


def test_a_resolved_incident_is_announced_once_to_incident_followers(app, client, service,
                                                                     smtp_server):
    _confirmed("service", "ktp-el", topics=("incidents",), address="incidents@example.org")
    _confirmed("service", "ktp-el", topics=("maintenance",), address="maint@example.org")
    admin = create_user(role="admin")
    opened = utc_now()
    incident = incident_open(admin, ["ktp-el"], "outage", "Layanan mati", "Service down",
                             "Diperiksa.", "Looking into it.", now=opened)
    assert subscriptions_notify().mails == 1  # the opening
    incident_update(admin, incident.id, "resolved", "Sudah pulih.", "Working again.",
                    now=opened + timedelta(minutes=30))
    assert subscriptions_notify().mails == 1  # the resolution
    assert subscriptions_notify().mails == 0  # announced once
    _deliver()
    mails = [_parsed(m) for m in smtp_server.messages if m["to"][0] == "incidents@example.org"]
    assert [m["Subject"] for m in mails[1:]] == ["Incident: Service down",
                                                 "Resolved: Service down"]
    resolved = mails[2]
    assert resolved["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = resolved.get_content()
    assert "The incident is resolved. Services: e-ID card recording." in text
    assert "Working again." in text and f"/en/incidents/{incident.id}" in text
    assert not [m for m in smtp_server.messages if m["to"][0] == "maint@example.org"
                and "Service down" in m["data"]]

    # Reopened and resolved again: the second resolution is news too, the reopening is not.
    incident_update(admin, incident.id, "investigating", "Gangguan lagi.", "Down again.",
                    now=opened + timedelta(hours=1))
    assert subscriptions_notify().mails == 0
    incident_update(admin, incident.id, "resolved", "Pulih lagi.", "Back again.",
                    now=opened + timedelta(hours=2))
    assert subscriptions_notify().mails == 1


def test_the_staff_update_page_announces_the_resolution_at_once(app, client, service):
    _confirmed("service", "ktp-el", topics=("incidents",), address="incidents@example.org")
    admin = create_user(role="admin")
    incident = incident_open(admin, ["ktp-el"], "outage", "Layanan mati", "Service down",
                             "Diperiksa.", "Looking into it.")
    subscriptions_notify()
    login(client, admin.username)
    page = client.get(f"/en/staff/incidents/{incident.id}")
    assert page.status_code == 200
    answer = client.post(f"/en/staff/incidents/{incident.id}", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "state": "resolved",
        "body_id": "Sudah pulih.", "body_en": "Working again."})
    assert answer.status_code == 302
    subjects = list(db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.kind == "subscription.notice").order_by(OutboxMessage.id)))
    assert subjects == ["Incident: Service down", "Resolved: Service down"]


@pytest.mark.parametrize("address", ["warga\x00@example.org", "a@b.org\r\nBcc: c@d.org",
                                     "a@b.org,c@d.org", "Warga <a@b.org>"])
def test_an_address_with_control_characters_or_several_recipients_is_refused(
        client, service, address):
    page = client.get("/en/subscribe?service=ktp-el")
    answer = client.post("/en/subscribe?service=ktp-el", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "email": address,
        "topic_status": "y"})
    assert answer.status_code == 422
    assert db.session.scalar(select(func.count(Subscription.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_control_character_in_the_followed_code_is_refused_not_a_500(client, service):
    assert client.get("/en/subscribe?service=ktp%00el").status_code in (400, 404)
    assert client.get("/en/subscribe?department=x%0Ay").status_code == 404


def test_unsubscribe_links_keep_working_after_the_secret_key_changes(app, service, smtp_server,
                                                                      monkeypatch):
    _confirmed("service", "ktp-el", topics=("status",))
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-after-rotation")
    _status_changes_to_no_data(service)
    assert subscriptions_notify().mails == 1
    _deliver()
    notice = _mails_to(smtp_server)[-1]
    url = notice["List-Unsubscribe"].strip("<>")
    answer = app.test_client().post(url.removeprefix(app.config["PORTAL_BASE_URL"]),
                                    data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert db.session.scalar(select(func.count(Subscription.id))) == 0


def test_a_failed_announcement_logs_no_address(app, service, caplog, monkeypatch):
    from portal.services.subscriptions import notify

    _confirmed("service", "ktp-el", topics=("status",))
    _status_changes_to_no_data(service)

    def refused(*args, **kwargs):
        raise RuntimeError(f"refused mail to {ADDRESS}")

    monkeypatch.setattr(notify, "outbox_enqueue", refused)
    caplog.set_level(logging.DEBUG)
    notify.subscriptions_notify_now()
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "announcing at once failed (RuntimeError)" in logged
    assert ADDRESS not in logged
    assert db.session.scalar(select(func.count(SubscriptionNotice.id))) == 0  # retried later


def test_two_servers_announcing_at_once_send_each_mail_once(app, service):
    """Two notifiers race (two servers after the same refresh): one wins, nothing is doubled."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole file)")
    import threading

    _confirmed("service", "ktp-el", topics=("status",), address="a@example.org")
    _confirmed("province", topics=("status",), address="b@example.org")
    _status_changes_to_no_data(service)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def notify() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                outcomes.append(subscriptions_notify())
            except Exception as error:  # reported by the assertion below
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=notify) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert sorted(o.mails for o in outcomes) == [0, 2]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "subscription.notice")) == 2
