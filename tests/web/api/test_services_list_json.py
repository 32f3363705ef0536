"""The API's service list written as text: the very bytes and headers of the dict it was.

The list writes each service's JSON itself, its stored 30-day metrics reused as written
once (memoised by their stored text), instead of building dicts for cached_json to write.
These tests keep the dict path as it was (:func:`_old_build`) and compare answers byte for
byte, on stored rows written every way a row can be: compact or not, ASCII-escaped, odd
numbers, stale, absent.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.i18n import current_lang, localized
from portal.models import Incident
from portal.models.metrics import ServiceReport, ServiceStatus
from portal.services.catalogue import search
from portal.services.metrics.status import status_reason_text
from portal.web.api import services as api_services
from portal.web.api.answers import api_timestamp
from portal.web.public.live import cached_json, page_cache
from tests.factories import create_department, create_service

# Stored metrics texts, each as some writer may have left it; all current ("due": in them).
METRICS = {
    # As status_store writes them.
    "akta": json.dumps({"service": "akta", "from": "2026-11-03", "to": "2026-12-02",
                        "due": 71, "on_time": 71, "on_time_rate": 1.0,
                        "median_completion_hours": 2.13, "p90_completion_hours": 382.93,
                        "first_response_on_time_rate": 0.2535, "availability": None},
                       separators=(",", ":")),
    # json.dumps' defaults: spaced, non-ASCII escaped (the answer writes it as UTF-8).
    "bea": json.dumps({"due": 12, "on_time_rate": 0.5, "note": "Café ✓ — layanan"}),
    # By hand: numbers spelt otherwise, an escaped slash, a repeated key, nesting, newlines.
    "cuti": '{"due":12,\n "rate": 1.50, "big": 1E5, "neg": -0.0, "tiny": 1e-7,'
            ' "path": "a\\/b", "due": 13, "nested": {"k": [1, 2.0, true, null]}}',
    # A status stored under earlier definitions (no "due"): evaluated afresh, a dict.
    "dana": "{}",
}


@pytest.fixture
def world(app):
    """Services with stored statuses of every kind, reports, an incident and the odd fact."""
    now = utc_now()
    department = create_department(code="dinas-json", name_en="")
    params = {"n": 12, "rate": 0.9, "target": 0.9, "date": "2026-12-01"}
    kinds = {"akta": "meeting", "bea": "breaching", "cuti": "at_risk", "dana": "meeting"}
    for code, status in kinds.items():
        service = create_service(department=department, code=code, name_id=code.title(),
                                 name_en=f"{code.title()} (en)")
        db.session.add(ServiceStatus(
            service_id=service.id, status=status, computed_at=now - timedelta(minutes=5),
            reason_params=json.dumps({**params, "data_status": status}),
            metrics=METRICS[code]))
        db.session.add(ServiceReport(service_id=service.id,
                                     last_reported_at=now - timedelta(hours=2)))
    # Silent since its row was stored: no_data now, the stored parameters no longer hold.
    silent = create_service(department=department, code="efek", name_id="Efek")
    db.session.add(ServiceStatus(
        service_id=silent.id, status="meeting", computed_at=now - timedelta(days=1),
        reason_params=json.dumps({**params, "data_status": "meeting"}),
        metrics=METRICS["akta"]))
    db.session.add(ServiceReport(service_id=silent.id,
                                 last_reported_at=now - timedelta(days=30)))
    # Never evaluated nor reported; working from anywhere, online, with a first-response
    # commitment, its English name blank (the Indonesian one shown), a work mode since a date.
    create_service(department=department, code="faskes", name_id="Fasilitas Kesehatan",
                   name_en="", work_mode="wfa", work_mode_since=date(2025, 3, 1),
                   online_url="https://layanan.example.go.id/faskes",
                   first_response_value=1, first_response_unit="working_days")
    # Disrupted by an open incident, over a stored row.
    gaji = create_service(department=department, code="gaji", name_id="Gaji")
    db.session.add(ServiceStatus(
        service_id=gaji.id, status="meeting", computed_at=now - timedelta(minutes=5),
        reason_params=json.dumps({**params, "data_status": "meeting"}),
        metrics=METRICS["akta"]))
    db.session.add(ServiceReport(service_id=gaji.id, last_reported_at=now))
    db.session.add(Incident(title_id="Gangguan", impact="major", created_by="staf",
                            started_at=now - timedelta(hours=1), services=[gaji]))
    db.session.commit()
    return department


def _old_service_json(facts, view, lang: str) -> dict:
    """One service's dict as the list built it before it wrote text (kept as the oracle)."""
    return {
        "code": facts.code,
        "name": localized(facts, "name", lang).text,
        "department": {
            "code": facts.department_code,
            "name": localized(facts, "department_name", lang).text,
        },
        "work_mode": facts.work_mode,
        "work_mode_since": facts.work_mode_since.isoformat() if facts.work_mode_since
        else None,
        "commitment": {
            "value": facts.commitment_value,
            "unit": facts.commitment_unit,
            "on_time_target": facts.on_time_target,
            "first_response": None if facts.first_response_value is None else {
                "value": facts.first_response_value,
                "unit": facts.first_response_unit,
            },
        },
        "online_url": facts.online_url or None,
        "status": view.status,
        "status_reason": status_reason_text(view),
        "status_computed_at": api_timestamp(view.computed_at),
        "last_reported_at": api_timestamp(facts.last_reported_at),
        "metrics_30_days": view.metrics or None,
    }


def _old_answer(app, url: str, headers: dict):
    """Answer url as the list did: its dict, written by cached_json."""
    from flask import request

    with app.test_request_context(url, headers=headers):
        app.preprocess_request()

        def build() -> dict:
            args = request.args
            found = search.service_facts_page(
                args.get("q", "")[:100], args.get("department", "")[:64],
                args.get("mode", ""), args.get("status", ""),
                page=int(args.get("page", 1)), per_page=int(args.get("per_page", 50)),
                lang=current_lang())
            return {
                "services": [_old_service_json(row.facts, row.status, current_lang())
                             for row in found.page.items],
                "page": found.page.page,
                "per_page": found.page.per_page,
                "total": found.page.total,
                "pages": found.page.pages,
                "next": api_services._page_link(found.page.next_num),
                "prev": api_services._page_link(found.page.prev_num),
            }

        # With what every answer gets after its view (compression's Vary, and so on).
        return app.process_response(cached_json(build))


def _headers(response) -> dict[str, str | None]:
    """Return the headers of an answer that its view and the app's after-request give (the
    security headers, added outside the app, are left out)."""
    return {name: response.headers.get(name) for name in (
        "Content-Type", "Content-Length", "ETag", "Vary", "Cache-Control", "Last-Modified")}


URLS = [
    "/api/v1/services",
    "/api/v1/services?lang=en",
    "/api/v1/services?department=dinas-json&per_page=3&page=2&lang=en",
    "/api/v1/services?per_page=2&page=99",
    "/api/v1/services?status=meeting",
    "/api/v1/services?status=no_data&lang=en",
    "/api/v1/services?mode=wfa",
    "/api/v1/services?q=gaji+efek&lang=en",
    "/api/v1/services?q=nothing-has-this",
]


@pytest.fixture(params=[0, 60], ids=["page-cache-off", "page-cache-on"])
def cache_seconds(request, app):
    """Run a test with the in-process page cache off (the test setting) and on (production)."""
    before = app.config["PORTAL_PAGE_CACHE_SECONDS"]
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = request.param
    page_cache().clear()
    yield request.param
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = before
    page_cache().clear()


@pytest.mark.parametrize("headers", [{}, {"Accept-Language": "en"}], ids=["id", "en"])
@pytest.mark.parametrize("url", URLS)
def test_the_list_answers_the_bytes_and_headers_its_dicts_gave(
    app, client, world, url, headers, cache_seconds
):
    expected = _old_answer(app, url, headers)
    for _ in range(2):  # a second time from the page cache (or the memoised metrics)
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200
        assert answer.get_data() == expected.get_data()
        assert _headers(answer) == _headers(expected)
        assert None not in (answer.headers.get("ETag"), answer.headers.get("Vary"))


def test_the_list_holds_every_kind_of_stored_row_it_is_compared_on(client, world):
    body = client.get("/api/v1/services?lang=en").get_json()
    services = {s["code"]: s for s in body["services"]}
    assert {code: s["status"] for code, s in services.items()} == {
        "akta": "meeting", "bea": "breaching", "cuti": "at_risk", "dana": "insufficient_data",
        "efek": "no_data", "faskes": "no_data", "gaji": "disrupted"}
    assert services["bea"]["metrics_30_days"]["note"] == "Café ✓ — layanan"
    assert services["cuti"]["metrics_30_days"]["due"] == 13
    assert services["dana"]["metrics_30_days"]["due"] == 0  # evaluated afresh
    assert services["faskes"]["metrics_30_days"] is None
    assert services["faskes"]["name"] == "Fasilitas Kesehatan"
    raw = client.get("/api/v1/services?lang=en").get_data(as_text=True)
    assert '"note":"Café ✓ — layanan"' in raw  # UTF-8, not the stored escapes
    assert '"rate":1.5,"big":100000.0,"neg":-0.0,"tiny":1e-07,"path":"a/b"' in raw


def test_a_stored_row_rewritten_is_answered_anew(app, client, world):
    url = "/api/v1/services?lang=en"
    before = client.get(url).get_json()
    row = db.session.get(ServiceStatus, next(
        s.id for s in world.services if s.code == "akta"))
    row.metrics = json.dumps({"due": 99, "on_time_rate": 0.25}, separators=(",", ":"))
    db.session.commit()
    after = client.get(url)
    services = {s["code"]: s for s in after.get_json()["services"]}
    assert services["akta"]["metrics_30_days"] == {"due": 99, "on_time_rate": 0.25}
    assert after.get_json() != before
    assert after.get_data() == _old_answer(app, url, {}).get_data()


@pytest.mark.parametrize("stored", [
    *METRICS.values(), "", "{}", '{"due":0}', "[]", "null", '{"a":[]}',
    '{"due":1,"x":"\\u0000\\ud83d\\ude00\\"quoted\\"\\t"}', '{"due":1,"f":1.7976931348623157e308}',
    '{"due":NaN,"inf":Infinity,"ninf":-Infinity}', '{"due":123456789012345678901234567890}',
])
def test_stored_metrics_are_written_as_parsing_and_writing_them_again(stored):
    # What the list did: view.metrics (parsed, "{}" when blank), or None, in the whole body.
    whole = json.dumps({"m": json.loads(stored or "{}") or None}, ensure_ascii=False,
                       separators=(",", ":"))
    assert whole == '{"m":' + api_services._stored_metrics_json(stored) + "}"
