"""Structured logs: a JSON line per request and per job run, a request id, no personal data."""

from __future__ import annotations

import io
import json
import logging
import os
import re

import pytest

from portal import create_app
from portal.web.ops.logs import JsonFormatter, json_log_handler
from tests.conftest import make_test_config

CODE = "K7QM-3TXV-9PHD"
EMAIL = "siti.rahma@example.com"
PHONE = "0812 3456 7890"


def _request_lines(caplog) -> list[dict]:
    """Return the request log lines written so far, parsed."""
    return [json.loads(record.getMessage()) for record in caplog.records
            if record.name == "portal.requests"]


@pytest.mark.parametrize(
    ("path", "logged", "endpoint", "status"),
    [
        (f"/id/feedback/{CODE}", "/id/feedback/[code]", "feedback.show", 404),
        (f"/en/track?code={CODE}", "/en/track", "feedback.track", 404),
        (f"/api/v1/feedback/{CODE.lower().replace('-', '.')}", "/api/v1/feedback/[code]",
         "api.feedback_read", 404),
        ("/en/services?q=siti", "/en/services", "public.services", 200),
    ],
)
def test_each_request_writes_one_json_line_without_codes_or_queries(
    client, caplog, path, logged, endpoint, status
):
    caplog.set_level(logging.INFO)
    response = client.get(path, headers={"X-Request-ID": "0f3c9a7e6b5d4c3b"})
    assert response.status_code == status
    response.get_data()
    [line] = _request_lines(caplog)
    assert line == {
        "event": "request", "request_id": "0f3c9a7e6b5d4c3b", "method": "GET",
        "path": logged, "endpoint": endpoint, "status": status,
        "duration_ms": line["duration_ms"], "pid": os.getpid(),
    }
    assert 0 <= line["duration_ms"] < 60_000
    assert response.headers["X-Request-ID"] == "0f3c9a7e6b5d4c3b"
    assert CODE not in caplog.text and "siti" not in caplog.text


@pytest.mark.parametrize("sent", [None, "", "has spaces in it", "x" * 65, "short", "{a}" * 5,
                                  "0f3c9a7e6b5d4c3b\t"])
def test_a_request_id_is_made_when_none_usable_was_sent(client, caplog, sent):
    caplog.set_level(logging.INFO)
    headers = {"X-Request-ID": sent} if sent is not None else {}
    response = client.get("/healthz", headers=headers)
    response.get_data()
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert _request_lines(caplog)[0]["request_id"] == request_id
    assert client.get("/healthz").headers["X-Request-ID"] != request_id


def test_static_files_are_logged_too(client, caplog, app):
    caplog.set_level(logging.INFO)
    css = re.search(r'href="(/static/[^"]+\.css)"', client.get("/en/").get_data(as_text=True))
    caplog.clear()
    client.get(css.group(1)).get_data()
    [line] = _request_lines(caplog)
    assert (line["endpoint"], line["status"]) == ("static", 200)


def test_an_error_log_carries_the_request_id_and_no_personal_data(database_url, caplog):
    caplog.set_level(logging.INFO)  # as configure_logging sets the portal's loggers
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=database_url,
                                      PROPAGATE_EXCEPTIONS=False))

    def explode(code: str):
        raise RuntimeError(f"mail to {EMAIL} ({PHONE}) about {code} failed")

    app.add_url_rule("/<lang>/feedback/<code>/explode", view_func=explode)
    stream = io.StringIO()
    handler = json_log_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = app.test_client().get(f"/id/feedback/{CODE}/explode")
        response.get_data()
    finally:
        root.removeHandler(handler)
    assert response.status_code == 500
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [error] = [line for line in lines if line["level"] == "error"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    # Every word after a code but the portal's own is masked, "explode" too.
    assert error["message"] == "Exception on /id/feedback/[code]/[code] [GET]"
    assert "RuntimeError: mail to […] […] about [code] failed" in error["exception"]
    [request] = [line for line in lines if line.get("event") == "request"]
    assert (request["status"], request["request_id"]) == (500, error["request_id"])
    for needle in (CODE, CODE.replace("-", ""), EMAIL, PHONE, "0812"):
        assert needle not in stream.getvalue()


def test_every_job_run_writes_one_json_line(runner, caplog):
    caplog.set_level(logging.INFO)
    assert runner.invoke(args=["feedback", "tick"]).exit_code == 0
    [line] = [json.loads(record.getMessage()) for record in caplog.records
              if record.name == "portal.services.jobs"]
    assert line["event"] == "job" and line["job"] == "feedback tick"
    assert line["outcome"] == "succeeded"
    assert line["duration_ms"] >= 0 and line["pid"] == os.getpid() and line["host"]


def test_the_formatter_writes_every_record_as_a_json_line_with_time_and_level():
    record = logging.LogRecord("portal.services.outbox", logging.WARNING, __file__, 1,
                               "mail to %s failed", (EMAIL,), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "mail to […] failed"
    assert (line["level"], line["logger"], line["pid"]) == (
        "warning", "portal.services.outbox", os.getpid())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
