"""Staff pages: login and logout, access by role, accounts, audit log, catalogue upkeep."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import create_app
from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import AuditEntry, User
from portal.services import auth
from portal.services.auth import CLI_OPERATOR
from portal.web.staff import safe_next
from tests.conftest import make_test_config
from tests.factories import (
    STAFF_PASSWORD,
    create_department,
    create_service,
    create_user,
    csrf_token_from,
    login,
)

ROLES = ("anonymous", "officer", "triage", "dprd", "admin")
NEW_PASSWORD = "kalteng-berintegritas-2025"
WRONG_LOGIN = "The username or password is wrong."


def _token(client) -> str:
    """Return a CSRF token of the client's session (from a page that has one)."""
    page = client.get("/en/staff/")
    if page.status_code != 200:
        page = client.get("/en/staff/login")
    return csrf_token_from(page.get_data(as_text=True))


def _post(client, path: str, data: dict | None = None):
    """POST a form with the session's CSRF token."""
    return client.post(path, data={"csrf_token": _token(client), **(data or {})})


@pytest.fixture
def world(app):
    """Two departments with a service each, and one account per role."""
    own = create_department(code="dinkes", name_en="Health Office")
    other = create_department(code="bapenda", name_en="Revenue Agency")
    services = {
        "own": create_service(code="izin-klinik", department=own, work_mode="onsite"),
        "other": create_service(code="pajak-kendaraan", department=other),
    }
    users = {
        "officer": create_user(role="officer", department=own, username="rina"),
        "triage": create_user(role="triage", username="tari"),
        "dprd": create_user(role="dprd", username="dewi"),
        "admin": create_user(role="admin", username="adi"),
    }
    return {"departments": (own, other), "services": services, "users": users}


def _client_as(app, world, role: str):
    client = app.test_client()
    if role != "anonymous":
        response = login(client, world["users"][role].username)
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


# Login and logout --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_login_page_renders_in_both_languages_with_a_csrf_token(client, lang) -> None:
    response = client.get(f"/{lang}/staff/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in html
    assert csrf_token_from(html)
    assert 'autocomplete="current-password"' in html


def test_footer_links_to_staff_login(client, app) -> None:
    html = client.get("/en/services").get_data(as_text=True)
    assert 'href="/en/staff/login"' in html


def test_login_then_dashboard_shows_username_and_logout_button(app, world) -> None:
    client = app.test_client()
    response = login(client, "rina")
    assert response.status_code == 302
    assert response.headers["Location"] == "/en/staff/"

    html = client.get("/en/staff/").get_data(as_text=True)
    assert "Staff: rina" in html
    assert 'action="/en/staff/logout"' in html
    assert "Services of my department" in html  # officer's section
    assert "Staff accounts" not in html  # admin's section
    assert client.get("/en/services").headers["Cache-Control"] == "private, no-store"


def test_public_pages_of_anonymous_visitors_show_no_staff_bar(client, world) -> None:
    html = client.get("/en/services").get_data(as_text=True)
    assert "Log out" not in html


@pytest.mark.parametrize(
    ("username", "password"),
    [("rina", "wrong-password-123"), ("nobody", STAFF_PASSWORD), ("RINA", "")],
)
def test_failed_login_says_the_same_generic_words(app, world, username, password) -> None:
    client = app.test_client()
    response = login(client, username, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert WRONG_LOGIN in html or "This field is required." in html
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/en/staff/").status_code == 302


def test_deactivated_account_gets_the_same_message_as_a_wrong_password(app, world) -> None:
    create_user(role="triage", username="lama", is_active=False)
    html = login(app.test_client(), "lama").get_data(as_text=True)
    assert WRONG_LOGIN in html


def test_login_without_csrf_token_is_refused_with_400(client, world) -> None:
    response = client.post("/en/staff/login", data={"username": "rina",
                                                     "password": STAFF_PASSWORD})
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_login_starts_a_fresh_session(client, world) -> None:
    client.get("/en/staff/login")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    assert login(client, "rina").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{world['users']['officer'].id}:")


def test_logout_needs_post_with_csrf_and_ends_the_session(app, world) -> None:
    client = _client_as(app, world, "officer")
    assert client.get("/en/staff/logout").status_code == 405
    assert client.post("/en/staff/logout").status_code == 400
    assert client.get("/en/staff/").status_code == 200

    response = _post(client, "/en/staff/logout")

    assert response.status_code == 302
    assert response.headers["Location"] == "/en/staff/login"
    assert client.get("/en/staff/").status_code == 302
    assert "You have logged out." in client.get("/en/staff/login").get_data(as_text=True)


def test_anonymous_is_sent_to_login_in_the_current_language_with_next(client, world) -> None:
    response = client.get("/id/staff/audit?department=dinkes")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/id/staff/login"
    assert parse_qs(location.query)["next"] == ["/id/staff/audit?department=dinkes"]


def test_login_follows_a_local_next_path(client, world) -> None:
    page = client.get("/en/staff/login?next=/en/staff/services")
    response = client.post(
        "/en/staff/login?next=/en/staff/services",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
              "username": "rina", "password": STAFF_PASSWORD},
    )
    assert response.headers["Location"] == "/en/staff/services"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/en/\r\nSet-Cookie: x=y",
    ],
)
def test_login_refuses_an_open_redirect_in_next(client, world, target) -> None:
    page = client.get("/en/staff/login")
    response = client.post(
        "/en/staff/login",
        query_string={"next": target},
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
              "username": "rina", "password": STAFF_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/en/staff/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/en/staff/users", "/en/staff/users"),
        ("/id/feedback/ABC?x=1", "/id/feedback/ABC?x=1"),
        ("//evil.example", None),
        ("https://evil.example", None),
        ("/\\evil.example", None),
        ("/a\nb", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next_keeps_only_local_paths(target, expected) -> None:
    assert safe_next(target) == expected


def test_changing_the_password_ends_other_sessions(app, world) -> None:
    client = _client_as(app, world, "officer")
    auth.user_set_password(CLI_OPERATOR, world["users"]["officer"].id, NEW_PASSWORD)
    assert client.get("/en/staff/").status_code == 302


def test_deactivating_an_account_ends_its_session(app, world) -> None:
    client = _client_as(app, world, "dprd")
    auth.user_set_active(CLI_OPERATOR, world["users"]["dprd"].id, False)
    assert client.get("/en/staff/").status_code == 302


# Rate limit --------------------------------------------------------------------------------


@pytest.fixture
def rate_limited(fresh_rate_limits, monkeypatch):
    """Switch rate limits on for this test only, with fresh counters and small limits."""
    monkeypatch.setitem(fresh_rate_limits.config, "PORTAL_LOGIN_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(fresh_rate_limits.config, "PORTAL_LOGIN_ACCOUNT_RATE_LIMIT",
                        "5 per hour")
    return fresh_rate_limits


def test_login_is_rate_limited_per_client_with_a_translated_429(rate_limited, world) -> None:
    client = rate_limited.test_client()
    for _ in range(3):
        assert login(client, "rina", "wrong-password-123").status_code == 200

    response = login(client, "rina", STAFF_PASSWORD, lang="id")

    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Retry-After" in response.headers
    # The form itself can still be read; only attempts are limited.
    assert client.get("/en/staff/login").status_code == 200


def test_successful_logins_do_not_count_against_the_limit(rate_limited, world) -> None:
    for _ in range(4):
        client = rate_limited.test_client()
        assert login(client, "rina").status_code == 302


def test_login_limit_is_per_client_address(rate_limited, world) -> None:
    client = rate_limited.test_client()
    for _ in range(3):
        login(client, "tari", "wrong-password-123")
    assert login(client, "tari").status_code == 429

    other = rate_limited.test_client()
    page = other.get("/en/staff/login", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    response = other.post(
        "/en/staff/login",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
              "username": "tari", "password": STAFF_PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 302


def test_login_failures_from_other_addresses_never_refuse_the_right_password(
    rate_limited, world
) -> None:
    # Beyond the per-username limit the account is guarded, never locked (one failure an
    # address, see tests/web/staff/test_session.py): a new address with the right password
    # logs in.
    for n in range(5):
        client = rate_limited.test_client()
        address = {"REMOTE_ADDR": f"203.0.113.{n + 1}"}
        page = client.get("/en/staff/login", environ_base=address)
        client.post("/en/staff/login", environ_base=address, data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "username": "dewi", "password": "wrong-password-123"})
    client = rate_limited.test_client()
    address = {"REMOTE_ADDR": "203.0.113.99"}
    page = client.get("/en/staff/login", environ_base=address)
    response = client.post("/en/staff/login", environ_base=address, data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "username": "dewi", "password": STAFF_PASSWORD})
    assert response.status_code == 302


def test_trusted_proxies_setting_wraps_the_app_in_proxyfix(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'proxy.sqlite3'}"
    plain = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=url))
    proxied = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=url, PORTAL_TRUSTED_PROXIES=2))
    assert not isinstance(plain.wsgi_app, ProxyFix)
    assert isinstance(proxied.wsgi_app, ProxyFix)
    assert (proxied.wsgi_app.x_for, proxied.wsgi_app.x_proto) == (2, 2)


# Access table ------------------------------------------------------------------------------

_G = {"anonymous": 302, "officer": 200, "triage": 200, "dprd": 200, "admin": 200}

ACCESS = [
    # (method, path, {role: status})
    ("GET", "/en/staff/login", {"anonymous": 200, "officer": 302, "triage": 302, "dprd": 302,
                                "admin": 302}),
    ("GET", "/en/staff/", _G),
    ("GET", "/id/staff/", _G),
    ("GET", "/en/staff/users", {"anonymous": 302, "officer": 403, "triage": 403, "dprd": 403,
                                "admin": 200}),
    ("POST", "/en/staff/users", {"anonymous": 302, "officer": 403, "triage": 403, "dprd": 403,
                                 "admin": 422}),
    ("POST", "/en/staff/users/{triage_id}/deactivate",
     {"anonymous": 302, "officer": 403, "triage": 403, "dprd": 403, "admin": 302}),
    ("POST", "/en/staff/users/{triage_id}/activate",
     {"anonymous": 302, "officer": 403, "triage": 403, "dprd": 403, "admin": 302}),
    ("GET", "/en/staff/audit", {"anonymous": 302, "officer": 403, "triage": 403, "dprd": 200,
                                "admin": 200}),
    ("GET", "/en/staff/services", {"anonymous": 302, "officer": 200, "triage": 403, "dprd": 403,
                                   "admin": 200}),
    ("GET", "/en/staff/services/izin-klinik/edit",
     {"anonymous": 302, "officer": 200, "triage": 403, "dprd": 403, "admin": 200}),
    ("GET", "/en/staff/services/pajak-kendaraan/edit",
     {"anonymous": 302, "officer": 403, "triage": 403, "dprd": 403, "admin": 200}),
    ("POST", "/en/staff/services/izin-klinik/edit",
     {"anonymous": 302, "officer": 422, "triage": 403, "dprd": 403, "admin": 422}),
    ("POST", "/en/staff/services/pajak-kendaraan/edit",
     {"anonymous": 302, "officer": 403, "triage": 403, "dprd": 403, "admin": 422}),
    ("GET", "/en/staff/services/no-such-service/edit",
     {"anonymous": 302, "officer": 404, "triage": 404, "dprd": 404, "admin": 404}),
    ("POST", "/en/staff/logout", {"anonymous": 302, "officer": 302, "triage": 302, "dprd": 302,
                                  "admin": 302}),
]


@pytest.mark.parametrize(
    ("method", "path", "role", "expected"),
    [(m, p, role, statuses[role]) for m, p, statuses in ACCESS for role in ROLES],
)
def test_access_table(app, world, method, path, role, expected) -> None:
    client = _client_as(app, world, role)
    path = path.format(triage_id=world["users"]["triage"].id)
    if method == "GET":
        response = client.get(path)
    else:
        response = _post(client, path, {"form": "commitment"})
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    if role == "anonymous" and expected == 302 and path != "/en/staff/logout":
        assert urlsplit(response.headers["Location"]).path.endswith("/staff/login")


# The dashboard's sections by role: what each role may open (the access table above and the
# other pages' tables), and nothing else.
DASHBOARD = {
    "officer": {"/en/staff/feedback", "/en/staff/services", "/en/staff/tokens",
                "/en/staff/incidents", "/en/staff/arrangements"},
    "triage": {"/en/staff/feedback", "/en/staff/feedback/attention"},
    "dprd": {"/en/staff/audit", "/en/staff/dprd/feedback"},
    "admin": {"/en/staff/users", "/en/staff/audit", "/en/staff/dprd/feedback",
              "/en/staff/feedback", "/en/staff/feedback/attention", "/en/staff/services",
              "/en/staff/tokens", "/en/staff/routing", "/en/staff/incidents",
              "/en/staff/jobs", "/en/staff/arrangements"},
}


@pytest.mark.parametrize("role", sorted(DASHBOARD))
def test_the_dashboard_shows_each_role_the_sections_it_may_open(app, world, role) -> None:
    client = _client_as(app, world, role)
    html = client.get("/en/staff/").get_data(as_text=True)
    shown = set(re.findall(r'<h2 class="card-title"><a href="([^"]+)"', html))
    assert shown == DASHBOARD[role]
    for path in shown:
        assert client.get(path).status_code == 200, path


def test_forbidden_page_is_translated_and_not_cached(app, world) -> None:
    client = _client_as(app, world, "dprd")
    response = client.get("/id/staff/users")
    assert response.status_code == 403
    assert '<html lang="id">' in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


# Accounts page -----------------------------------------------------------------------------


def test_admin_creates_an_officer_account_from_the_page(app, world) -> None:
    client = _client_as(app, world, "admin")
    response = _post(client, "/en/staff/users", {
        "username": "joko", "full_name": "Joko Widodo", "email": "joko@dinkes.go.id",
        "role": "officer", "department": "dinkes",
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
    })
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "joko"))
    assert user.department.code == "dinkes"
    html = client.get("/en/staff/users").get_data(as_text=True)
    assert "Account joko created." in html
    assert NEW_PASSWORD not in html
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))


def test_account_form_keeps_typed_values_and_shows_service_errors(app, world) -> None:
    client = _client_as(app, world, "admin")
    response = _post(client, "/en/staff/users", {
        "username": "joko", "full_name": "Joko Widodo", "email": "",
        "role": "officer", "department": "",
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="joko"' in html and 'value="Joko Widodo"' in html
    assert "is required for an officer" in html
    assert NEW_PASSWORD not in html  # password fields are never echoed
    assert db.session.scalar(select(User).where(User.username == "joko")) is None


def test_admin_deactivates_an_account_and_it_can_no_longer_log_in(app, world) -> None:
    client = _client_as(app, world, "admin")
    triage = world["users"]["triage"]
    assert _post(client, f"/en/staff/users/{triage.id}/deactivate").status_code == 302
    assert "Account tari is deactivated." in client.get("/en/staff/users").get_data(
        as_text=True)
    assert login(app.test_client(), "tari").status_code == 200


# Audit page --------------------------------------------------------------------------------


def test_audit_page_lists_entries_and_filters_by_department(app, world) -> None:
    own, other = world["departments"]
    for n in range(3):
        auth.audit_record(None, "test.own", "thing", f"own-{n}", department_id=own.id)
    auth.audit_record(None, "test.other", "thing", "other-0", department_id=other.id)
    db.session.commit()
    client = _client_as(app, world, "dprd")

    everything = client.get("/en/staff/audit").get_data(as_text=True)
    filtered = client.get("/en/staff/audit?department=bapenda").get_data(as_text=True)

    assert "own-2" in everything and "other-0" in everything
    assert "other-0" in filtered and "own-2" not in filtered
    assert "1 entry" in filtered


def test_audit_page_is_paginated_fifty_at_a_time(app, world) -> None:
    for n in range(51):
        auth.audit_record(None, "test.many", "thing", f"n{n:02d}")
    db.session.commit()
    client = _client_as(app, world, "admin")

    first = client.get("/en/staff/audit").get_data(as_text=True)
    second = client.get("/en/staff/audit?page=2").get_data(as_text=True)

    assert "n50" in first and "n01" in first and ">thing n00<" not in first
    assert "thing n00" in second and "n50" not in second
    assert "Older entries" in first and "Newer entries" in second


# Catalogue upkeep --------------------------------------------------------------------------


def _today() -> date:
    return wib_date(utc_now())


def test_officer_changes_work_mode_and_it_is_public_and_audited(app, world) -> None:
    client = _client_as(app, world, "officer")
    since = _today() - timedelta(days=2)
    response = _post(client, "/en/staff/services/izin-klinik/edit", {
        "form": "work_mode", "mode-work_mode": "wfa",
        "mode-effective_from": since.isoformat(), "mode-reason": "Gedung direnovasi",
    })
    assert response.status_code == 302

    public = client.get("/en/services/izin-klinik").get_data(as_text=True)
    history = public.split("Work mode history", 1)[1].split("Commitment history", 1)[0]
    assert "Work from anywhere (WFA)" in history
    audit = _client_as(app, world, "admin").get("/en/staff/audit").get_data(as_text=True)
    assert "service.work_mode_change" in audit and "Gedung direnovasi" in audit


def test_officer_changes_commitment_and_reason_is_public(app, world) -> None:
    client = _client_as(app, world, "officer")
    response = _post(client, "/en/staff/services/izin-klinik/edit", {
        "form": "commitment", "commitment-commitment_value": "3",
        "commitment-commitment_unit": "working_days",
        "commitment-on_time_target_percent": "95",
        "commitment-effective_from": _today().isoformat(),
        "commitment-reason": "Perizinan daring dipercepat",
    })
    assert response.status_code == 302
    public = client.get("/en/services/izin-klinik").get_data(as_text=True)
    assert "Perizinan daring dipercepat" in public
    assert "Completed within 3 working days, 95% of requests on time" in public
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "service.commitment_change")
    )
    assert entry.actor_username == "rina"


def test_commitment_without_reason_is_refused_keeping_typed_values(app, world) -> None:
    client = _client_as(app, world, "officer")
    response = _post(client, "/en/staff/services/izin-klinik/edit", {
        "form": "commitment", "commitment-commitment_value": "3",
        "commitment-commitment_unit": "hours",
        "commitment-on_time_target_percent": "85",
        "commitment-effective_from": "2025-08-19",
        "commitment-reason": "   ",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say why the commitment changes." in html
    assert 'id="commitment-commitment_value"' in html
    assert 'value="3"' in html and 'value="85"' in html and 'value="2025-08-19"' in html
    assert '<option selected value="hours">' in html
    assert 'aria-invalid="true"' in html
    service = world["services"]["own"]
    db.session.expire_all()
    assert (service.commitment_value, service.commitment_unit) == (5, "working_days")
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_service_rule_errors_show_next_to_the_field(app, world) -> None:
    client = _client_as(app, world, "officer")
    tomorrow = (_today() + timedelta(days=1)).isoformat()
    response = _post(client, "/en/staff/services/izin-klinik/edit", {
        "form": "work_mode", "mode-work_mode": "hybrid", "mode-effective_from": tomorrow,
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "must not be in the future" in html
    assert f'value="{tomorrow}"' in html


def test_officer_cannot_change_another_departments_service(app, world) -> None:
    client = _client_as(app, world, "officer")
    response = _post(client, "/en/staff/services/pajak-kendaraan/edit", {
        "form": "work_mode", "mode-work_mode": "wfa",
        "mode-effective_from": _today().isoformat(),
    })
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert world["services"]["other"].work_mode == "onsite"


def test_officer_service_list_shows_only_own_department(app, world) -> None:
    html = _client_as(app, world, "officer").get("/en/staff/services").get_data(as_text=True)
    assert "/en/staff/services/izin-klinik/edit" in html
    assert "pajak-kendaraan" not in html


def test_public_pages_of_visitors_without_session_do_not_vary_on_cookie(client, world) -> None:
    response = client.get("/en/services")
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_edit_page_prefills_the_current_commitment_and_todays_date(app, world) -> None:
    html = _client_as(app, world, "officer").get(
        "/en/staff/services/izin-klinik/edit").get_data(as_text=True)
    today = _today().isoformat()
    assert f'id="mode-effective_from" name="mode-effective_from" required type="date" ' \
           f'value="{today}"' in html
    assert 'name="commitment-commitment_value" required type="number" value="5"' in html
    assert 'name="commitment-on_time_target_percent" required type="number" value="90"' in html
    # The current work mode is not offered as a "change".
    assert '<option value="onsite">' not in html


@pytest.mark.parametrize("identity", ["", "abc", "1", "999:deadbeef", "1:wrong-fingerprint"])
def test_a_forged_or_stale_session_identity_is_anonymous(app, world, identity) -> None:
    client = app.test_client()
    client.get("/en/staff/login")
    with client.session_transaction() as session:
        session["_user_id"] = identity
    assert client.get("/en/staff/").status_code == 302


def test_staff_pages_say_manage_and_forever(app, world) -> None:
    officer = _client_as(app, world, "officer")
    services = officer.get("/en/staff/services").get_data(as_text=True)
    assert "<h1>Services you manage</h1>" in services and "you keep" not in services
    audit = _client_as(app, world, "admin").get("/en/staff/audit").get_data(as_text=True)
    assert "kept forever and never changed" in audit
    lonely = create_user(role="officer", department=create_department(code="kosong"))
    client = app.test_client()
    login(client, lonely.username)
    assert "You manage no service." in client.get("/en/staff/incidents/new").get_data(
        as_text=True)


def test_form_errors_of_wtforms_follow_the_page_language(app, world) -> None:
    """WTForms ships no Indonesian: its messages come from the portal's catalogue."""
    client = _client_as(app, world, "officer")
    fields = {
        "form": "commitment", "commitment-commitment_value": "9000",
        "commitment-commitment_unit": "working_days",
        "commitment-on_time_target_percent": "95",
        "commitment-effective_from": "31-31-2026",
        "commitment-reason": "Perizinan daring dipercepat",
    }
    indonesian = _post(client, "/id/staff/services/izin-klinik/edit", fields)
    html = indonesian.get_data(as_text=True)
    assert indonesian.status_code == 422
    assert "Angka harus antara 0 dan 8760." in html
    assert "Bukan tanggal yang valid." in html
    assert "Number must be between" not in html and "Not a valid date value." not in html

    english = _post(client, "/en/staff/services/izin-klinik/edit", fields)
    assert "Number must be between 0 and 8760." in english.get_data(as_text=True)
