"""Read paths are replica-safe: no GET handler writes to the database, or locks a row.

A read replica (README, "Several servers") can serve every GET only if none of them writes:
every GET endpoint of the portal is requested here, with data behind it, while every SQL
statement is watched. A new GET endpoint makes the test fail until it is added below.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import event, func, select

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.models import AccountabilitySnapshot, Department
from portal.services.accountability.tables import accountability_refresh
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.publishing import feedback_publish_approve
from portal.services.metrics.incidents import incident_open
from portal.services.metrics.service_requests import service_requests_report
from tests.factories import create_service, create_user, login
from tests.feedback_support import PDF_BYTES, create_triage_unit, valid_data

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE)\b", re.I)
LOCK = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO KEY UPDATE)\b", re.I)


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    """A service with reports, published feedback with an attachment, an incident, an admin."""
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(tmp_path / "uploads"))
    create_triage_unit()
    service = create_service(code="izin-klinik", online_url="https://example.invalid/",
                             work_mode="wfa", work_mode_since=date(2026, 10, 1))
    service_requests_report(service.department, {"requests": [{
        "service": service.code, "id": "r1",
        "received_at": datetime(2026, 11, 2, 9, tzinfo=WIB).isoformat(),
        "completed_at": datetime(2026, 11, 3, 9, tzinfo=WIB).isoformat()}]})
    admin = create_user("admin")
    feedback = feedback_submit(valid_data(service=service.code, publish=True), "en",
                               attachments=[("scan.pdf", PDF_BYTES)])
    feedback_publish_approve(admin, feedback.id, "Antrean panjang", "Menunggu lama.")
    incident = incident_open(CLI_OPERATOR, [service.code], "minor", "Gangguan", "Outage",
                             "Sedang diperiksa.", "Being looked at.")
    subscription_links = _pending_subscription(service.code)
    return {"service": service.code, "department": service.department.code,
            "feedback": feedback, "attachment": feedback.attachments[0].id,
            "incident": incident.id, "admin": admin.username, **subscription_links}


def _pending_subscription(service_code: str) -> dict[str, str]:
    """Request a subscription; return the paths of its confirmation and unsubscribe links."""
    from portal.models import OutboxMessage, Subscription
    from portal.services.subscriptions.subscribe import (
        subscription_request,
        subscription_target,
        unsubscribe_url,
    )

    subscription_request("pembaca@example.org", subscription_target("service", service_code),
                         ["status"], "en")
    body = db.session.scalar(select(OutboxMessage.body).where(
        OutboxMessage.kind == "subscription.confirm"))
    confirm = re.search(r"/en/subscriptions/confirm/\S+", body).group(0)
    unsubscribe = unsubscribe_url(db.session.scalar(select(Subscription)))
    return {"confirm": confirm, "unsubscribe": "/en/unsubscribe/" + unsubscribe.rsplit("/", 1)[1]}


def _urls(world: dict, data_files: list[str]) -> dict[str, list[str]]:
    """Return the URLs requested for each GET endpoint."""
    svc, dept, incident = world["service"], world["department"], world["incident"]
    feedback = world["feedback"]
    code, fid = feedback.tracking_code_display, feedback.id
    return {
        "root.index": ["/"], "root.healthz": ["/healthz"],
        "ops.readyz": ["/readyz"], "ops.metrics": ["/metrics"],
        "public.home": ["/en/"], "public.live": ["/en/live"],
        "public.services": ["/en/services", f"/id/services?department={dept}"],
        "public.service": [f"/en/services/{svc}"],
        "public.service_tables": [f"/en/services/{svc}/tables"],
        "public.departments": ["/en/departments"],
        "public.department": [f"/en/departments/{dept}"],
        "incidents.index": ["/en/incidents"], "feeds.province": ["/en/incidents.atom"],
        "feeds.service": [f"/en/services/{svc}/feed.atom"],
        "feeds.department": [f"/id/departments/{dept}/feed.atom"],
        "badges.service": [f"/badge/services/{svc}.svg?lang=en"],
        "indexing.robots": ["/robots.txt"], "indexing.sitemap": ["/sitemap.xml"],
        "indexing.favicon": ["/favicon.ico"], "indexing.touch_icon": ["/apple-touch-icon.png"],
        "incidents.detail": [f"/en/incidents/{incident}"],
        "feedback.new": [f"/en/feedback/new?service={svc}"],
        "feedback.published": ["/en/feedback"],
        "feedback.published_item": [f"/en/feedback/published/{fid}"],
        "feedback.show": [f"/en/feedback/{code}"],
        "feedback.track": [f"/en/track?code={code}"],
        "survey.form": [f"/en/services/{svc}/survey"],
        "survey.thanks": [f"/en/services/{svc}/survey/thanks"],
        "accountability.index": ["/en/accountability"],
        "accountability.department": [f"/en/accountability/departments/{dept}"],
        "accountability.department_wfa_impact": [
            f"/en/accountability/departments/{dept}/wfa-impact"],
        "accountability.department_changes": [f"/id/accountability/departments/{dept}/changes"],
        "accountability.report": [f"/en/accountability/departments/{dept}/report"],
        "accountability.report_download": [f"/en/accountability/departments/{dept}/report.pdf"],
        "accountability.how_we_measure": ["/en/how-we-measure"],
        "accountability.table_report": ["/en/accountability/report?commission=I"],
        "accountability.table_report_download": ["/en/accountability/report.pdf"],
        "data.index": ["/en/data"], "data.datapackage": ["/data/datapackage.json"],
        "data.catalogue": ["/data/catalog.jsonld"], "data.download": data_files,
        "developers.page": ["/en/developers"],
        "developers.page_in_reader_language": ["/developers"],
        "api.services_list": ["/api/v1/services"],
        "api.service_detail": [f"/api/v1/services/{svc}"],
        "api.service_metrics": [
            f"/api/v1/services/{svc}/metrics?from=2026-11-01&to=2026-11-30"],
        "api.service_wfa_impact": [f"/api/v1/services/{svc}/wfa-impact"],
        "api.feedback_read": [f"/api/v1/feedback/{code}"],
        "api.accountability_json": ["/api/v1/accountability"],
        "api.accountability_csv": ["/api/v1/accountability.csv"],
        "api.accountability_xlsx": ["/api/v1/accountability.xlsx"],
        "api.openapi_json": ["/api/v1/openapi.json"],
        "open311.discovery": ["/open311/v2/discovery.json"],
        "open311.services": ["/open311/v2/services.xml"],
        "open311.service_definition_read": [f"/open311/v2/services/{svc}.json"],
        "open311.requests_list": ["/open311/v2/requests.json"],
        "open311.request_read": [f"/open311/v2/requests/P{fid}.json",
                                 f"/open311/v2/requests/{code}.json"],
        "staff.login": ["/en/staff/login"], "staff.dashboard": ["/en/staff/"],
        "staff.users": ["/en/staff/users"], "staff.audit": ["/en/staff/audit"],
        "staff.services": ["/en/staff/services"],
        "staff.service_edit": [f"/en/staff/services/{svc}/edit"],
        "staff.api_tokens": ["/en/staff/tokens"], "staff.routing_rules": ["/en/staff/routing"],
        "staff.feedback_inbox": ["/en/staff/feedback"],
        "staff.feedback_item": [f"/en/staff/feedback/{fid}"],
        "staff.feedback_attachment": [
            f"/en/staff/feedback/{fid}/attachments/{world['attachment']}"],
        "staff.feedback_attention": ["/en/staff/feedback/attention"],
        "staff.dprd_feedback": ["/en/staff/dprd/feedback"],
        "staff.incidents": ["/en/staff/incidents"],
        "staff.incident_new": ["/en/staff/incidents/new"],
        "staff.incident_detail": [f"/en/staff/incidents/{incident}"],
        "staff.maintenance_new": ["/en/staff/incidents/maintenance/new"],
        "staff.jobs": ["/en/staff/jobs"],
        "staff.arrangements_index": ["/en/staff/arrangements"],
        "staff.arrangement_edit": [f"/en/staff/departments/{dept}/arrangement"],
        "subscriptions.subscribe": [f"/en/subscribe?service={svc}", "/id/subscribe?digest=dprd"],
        "subscriptions.sent": [f"/en/subscribe/sent?department={dept}"],
        "subscriptions.confirm": [world["confirm"]],
        "subscriptions.unsubscribe_page": [world["unsubscribe"]],
        "well_known.security": ["/.well-known/security.txt"],
    }


def _writes(client, urls: dict[str, list[str]]) -> dict[str, list[str]]:
    """Request every URL; return the writing or locking statements of each, by endpoint."""
    statements: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        writes = {}
        for endpoint, paths in urls.items():
            for path in paths:
                statements.clear()
                response = client.get(path)
                response.get_data()
                # 503 is an answer too (/readyz without alembic_version, the PDF without
                # WeasyPrint's libraries); a 500 would hide the statements that did not run.
                assert response.status_code != 500, path
                bad = [s for s in statements if WRITE.match(s) or LOCK.search(s)]
                if bad:
                    writes[f"{endpoint} {path}"] = bad
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    return writes


def test_no_get_handler_writes_to_the_database(app, world):
    client = app.test_client()
    assert login(client, world["admin"]).status_code == 302
    package = client.get("/data/datapackage.json").get_json()
    data_files = ["/data/" + resource["path"].rsplit("/", 1)[-1]
                  for resource in package["resources"]]
    urls = _urls(world, data_files)
    get_endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                     if "GET" in (rule.methods or ())}
    assert get_endpoints - set(urls) == set(), "add the new GET endpoint(s) to this test"
    assert _writes(client, urls) == {}


@pytest.mark.parametrize("stored", [False, True], ids=["snapshots-missing", "snapshots-stored"])
def test_the_accountability_pages_never_store_their_figures(app, world, monkeypatch, stored):
    """With stored figures switched on (production), a standard period's pages read them, and
    compute them when none is stored (after a deployment, until the next refresh): only the
    refresh job stores them, never a visit."""
    monkeypatch.setitem(app.config, "PORTAL_ACCOUNTABILITY_SNAPSHOTS", True)
    if stored:
        accountability_refresh()
    before = db.session.scalars(
        select(AccountabilitySnapshot.key).order_by(AccountabilitySnapshot.key)).all()
    urls = {endpoint: paths for endpoint, paths in _urls(world, []).items()
            if endpoint.startswith(("accountability.", "api.accountability"))}
    client = app.test_client()
    assert _writes(client, urls) == {}
    db.session.rollback()
    assert db.session.scalars(
        select(AccountabilitySnapshot.key).order_by(AccountabilitySnapshot.key)).all() == before
    departments = db.session.scalar(select(func.count()).select_from(Department))
    # Each standard period's table and every department's scorecard, or none.
    assert len(before) == (3 * (1 + departments) if stored else 0)
