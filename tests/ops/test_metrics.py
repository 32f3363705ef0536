"""/metrics: Prometheus' text format, parsed back with prometheus-client's own parser."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from portal import create_app
from portal.domain.calendar import WIB, utc_now
from portal.extensions import db
from portal.models import JobRun
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.citizen import feedback_submit
from portal.services.metrics.tokens import token_create
from portal.services.outbox import outbox_enqueue
from tests.conftest import make_test_config
from tests.factories import create_service
from tests.feedback_support import FRIDAY_15_AUG, valid_data


def scrape(client, **environ) -> dict[tuple[str, frozenset], float]:
    """Read /metrics into {(sample name, labels): value}, through the official parser."""
    response = client.get("/metrics", environ_base=environ)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    """Return one sample's value (0 when absent: a counter never incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_and_timed_by_endpoint_method_and_status(client):
    home = {"endpoint": "public.home", "method": "GET", "status": "200"}
    unknown = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    before = scrape(client)
    # A request is counted once its response is sent whole, as a server sends it: read it.
    for _ in range(2):
        page = client.get("/en/")
        assert page.status_code == 200 and page.get_data()
    missing = client.get("/en/no-such-page")
    assert missing.status_code == 404 and missing.get_data()
    after = scrape(client)

    def grew(name: str, labels: dict) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("portal_http_requests_total", home) == 2
    assert grew("portal_http_requests_total", unknown) == 1
    assert grew("portal_http_request_duration_seconds_count", home) == 2
    assert grew("portal_http_request_duration_seconds_sum", home) > 0
    # The histogram's buckets are cumulative: every request falls under +Inf.
    assert grew("portal_http_request_duration_seconds_bucket", {**home, "le": "+Inf"}) == 2


def test_stored_reports_count_batches_by_department_and_requests_by_result(client):
    service = create_service(code="izin-usaha")
    _token, plaintext = token_create(service.department.code, actor=CLI_OPERATOR)
    received = datetime(2026, 11, 2, 9, 0, tzinfo=WIB).isoformat()

    def report(*ids: str):
        response = client.post(
            "/api/v1/service-requests", headers={"Authorization": f"Bearer {plaintext}"},
            json={"requests": [{"service": service.code, "id": i, "received_at": received}
                               for i in ids]})
        assert response.status_code == 200, response.get_data(as_text=True)

    before = scrape(client)
    report("a", "b")
    report("a", "c")  # a again, unchanged; c new
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("portal_ingest_batches_total", department=service.department.code) == 2
    assert grew("portal_ingest_requests_total", result="created") == 3
    assert grew("portal_ingest_requests_total", result="unchanged") == 1
    assert grew("portal_ingest_requests_total", result="updated") == 0


def test_the_database_figures_are_read_at_each_scrape(app, client):
    now = utc_now()
    for minutes in (10, 2):
        message = outbox_enqueue("warga@example.com", "Halo", "Isi", lang="id", kind="test")
        message.created_at = now - timedelta(minutes=minutes)
    sent = outbox_enqueue("warga@example.com", "Halo", "Isi", lang="id", kind="test")
    sent.created_at, sent.sent_at = now - timedelta(hours=1), now
    db.session.commit()
    # Filed in August 2025 with the department: its first response is long overdue.
    service = create_service()
    feedback_submit(valid_data(service=service.code), "id", now=FRIDAY_15_AUG)
    create_service()
    finished = now - timedelta(minutes=3)
    db.session.add(JobRun(job="status refresh", started_at=finished - timedelta(seconds=2),
                          finished_at=finished, outcome="succeeded"))
    db.session.commit()

    samples = scrape(client)
    assert value(samples, "portal_database_up") == 1
    assert value(samples, "portal_outbox_queued_messages") == 2
    assert 600 <= value(samples, "portal_outbox_oldest_queued_age_seconds") < 660
    assert value(samples, "portal_feedback_overdue") == 1
    # Neither service has ever reported.
    assert value(samples, "portal_services", status="no_data") == 2
    assert value(samples, "portal_services", status="healthy") == 0
    assert value(samples, "portal_job_last_success_timestamp_seconds",
                 job="status refresh") == pytest.approx(finished.timestamp())
    assert value(samples, "portal_job_overdue", job="status refresh") == 0
    assert value(samples, "portal_job_overdue", job="outbox send") == 1
    assert ("portal_job_last_success_timestamp_seconds",
            frozenset({("job", "outbox send")})) not in samples
    assert any(name == "portal_build_info" for name, _labels in samples)


def test_metrics_may_be_kept_to_an_address_list(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_METRICS_ALLOW", "10.0.0.0/8, 192.0.2.7")
    assert client.get("/metrics").status_code == 403  # from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code \
        == 403
    assert scrape(client, REMOTE_ADDR="10.20.30.40")
    assert scrape(client, REMOTE_ADDR="192.0.2.7")


def test_a_worker_starting_during_a_scrape_does_not_fail_it(client, monkeypatch, tmp_path):
    # Under gunicorn each worker counts in its own file; a worker that is starting has
    # created its file but not yet sized it. The scrape reports the other workers' counts.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    counted = MmapedDict(str(tmp_path / "counter_4242.db"))
    counted.write_value(
        mmap_key("portal_http_requests", "portal_http_requests_total",
                 ["endpoint", "method", "status"], ["root.healthz", "GET", "200"],
                 "HTTP requests answered."), 7.0, 0.0)
    counted.close()
    (tmp_path / "counter_4343.db").write_bytes(b"")
    samples = scrape(client)
    assert value(samples, "portal_http_requests_total", endpoint="root.healthz",
                 method="GET", status="200") == 7.0


def test_an_address_list_that_does_not_parse_stops_the_start(database_url):
    with pytest.raises(ValueError):
        create_app(make_test_config(SQLALCHEMY_DATABASE_URI=database_url,
                                    PORTAL_METRICS_ALLOW="10.0.0.300"))
