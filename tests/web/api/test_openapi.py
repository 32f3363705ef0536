"""The OpenAPI 3.1 description: valid, complete, true to the code, and true to a live server.

The last two tests run schemathesis against a live gunicorn portal with the demo data, for
every operation of the description, with every check on: no answer may be a server error or
differ from what the description promises.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from portal.domain.regions import KEMENDAGRI_REGENCY_CODES
from portal.models.catalogue import COMMITMENT_UNITS, WORK_MODES
from portal.models.feedback import (
    EVENT_KINDS,
    FEEDBACK_KINDS,
    FEEDBACK_STATUSES,
    MAX_BODY,
    MAX_SUBJECT,
    REGENCIES,
    ROUTING_KINDS,
)
from portal.models.metrics import CHANNELS, SERVICE_STATUSES
from portal.services.accountability.tables import PERIOD_CHOICES
from portal.services.errors import FIELD_ERROR_CODES
from portal.services.metrics.service_requests import MAX_BATCH, MAX_EXTERNAL_ID
from portal.services.metrics.wfa_impact import VERDICTS
from portal.web.api.openapi import merge_documents, openapi_document
from portal.web.api.problems import PROBLEM_TYPES
from tests.conftest import demo_database_copy, run_flask, serve_live

SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
# The APIs the description covers, by the start of their addresses.
API_PREFIXES = ("/api/v1/", "/open311/v2/")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@pytest.fixture
def document(client) -> dict:
    """The description as the portal serves it."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_served_description_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error


def _openapi_path(rule: str) -> str:
    """Write a Flask rule as an OpenAPI path: <code> and <any(json, xml):format> -> {name}."""
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", rule)


def test_every_api_route_is_described_and_nothing_else(app, document):
    routes = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules() if rule.rule.startswith(API_PREFIXES)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in document["paths"].items()
                 for method in item if method in HTTP_METHODS}
    assert routes, "no API route found"
    assert sorted(described - routes) == [], "described but not served"
    assert sorted(routes - described) == [], "served but not described"


def test_open311_is_described_once_it_is_served(app, document):
    served = any(rule.rule.startswith("/open311/v2/") for rule in app.url_map.iter_rules())
    assert served == any(path.startswith("/open311/v2/") for path in document["paths"])


def test_the_description_names_the_portal_as_its_server_and_is_cached(
        app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", "https://pantau.example.go.id/")
    first = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"})
    assert first.get_json()["servers"] == [
        {"url": "https://pantau.example.go.id", "description": "This portal"}]
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def _schemas(document: dict) -> dict:
    return document["components"]["schemas"]


def test_the_codes_in_the_description_are_those_of_the_portal(document):
    schemas = _schemas(document)
    assert schemas["FieldProblem"]["properties"]["code"]["enum"] == list(FIELD_ERROR_CODES)
    slugs = re.search(r"problem-\((.*)\)\$", schemas["Problem"]["properties"]["type"]["pattern"])
    assert slugs.group(1).split("|") == list(PROBLEM_TYPES)
    service = schemas["Service"]["properties"]
    assert service["work_mode"]["enum"] == list(WORK_MODES)
    assert service["status"]["enum"] == list(SERVICE_STATUSES)
    assert service["commitment"]["properties"]["unit"]["enum"] == list(COMMITMENT_UNITS)
    assert schemas["Verdict"]["enum"] == list(VERDICTS)
    new = schemas["FeedbackNew"]["properties"]
    assert new["kind"]["enum"] == list(FEEDBACK_KINDS)
    assert new["regency"]["enum"] == [*REGENCIES, *KEMENDAGRI_REGENCY_CODES, None]
    assert (new["subject"]["maxLength"], new["body"]["maxLength"]) == (MAX_SUBJECT, MAX_BODY)
    assert schemas["FeedbackStatus"]["enum"] == list(FEEDBACK_STATUSES)
    assert schemas["RoutingRule"]["enum"] == list(ROUTING_KINDS)
    timeline = schemas["FeedbackView"]["properties"]["timeline"]["items"]["properties"]
    assert timeline["kind"]["enum"] == list(EVENT_KINDS)
    item = schemas["ServiceRequest"]["properties"]
    assert item["channel"]["enum"] == [*CHANNELS, None]
    assert item["id"]["oneOf"][0]["maxLength"] == MAX_EXTERNAL_ID
    assert schemas["ServiceRequestsReport"]["properties"]["requests"]["maxItems"] == MAX_BATCH
    period = document["paths"]["/api/v1/accountability"]["get"]["parameters"][0]
    assert period["name"] == "period" and period["schema"]["enum"] == list(PERIOD_CHOICES)


def test_every_operation_of_the_json_api_says_how_it_fails_and_bodies_have_examples(document):
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            refusals = [status for status in operation["responses"] if status[0] in "45"]
            assert refusals, f"{method} {path} documents no error"
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                assert media.get("examples") or media.get("example"), f"{method} {path}"


def test_merging_refuses_to_describe_a_path_or_a_component_twice():
    base = {"paths": {"/a": {}}, "components": {"schemas": {"X": {"type": "string"}}}}
    assert set(merge_documents(base, {"paths": {"/b": {}}})["paths"]) == {"/a", "/b"}
    with pytest.raises(ValueError, match="/a"):
        merge_documents(base, {"paths": {"/a": {}}})
    with pytest.raises(ValueError, match="schemas/X"):
        merge_documents(base, {"components": {"schemas": {"X": {"type": "integer"}}}})
    same = merge_documents(base, {"components": {"schemas": {"X": {"type": "string"}}}})
    assert same["components"]["schemas"] == {"X": {"type": "string"}}


def test_the_repository_description_is_the_one_served(document):
    served = {key: value for key, value in document.items() if key != "servers"}
    assert served == openapi_document()


# Schemathesis against a live server ---------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed_portal(tmp_path_factory):
    """A live portal of its own for schemathesis, with a department token and a feedback.

    Not the shared live_server: the fuzzed writes (feedback, reports) would change the demo
    data other tests read, and its feedback would use up the per-address rate limit that
    every live server of the run shares through Redis; so rate limits are off here (the unit
    tests check them).
    """
    url = demo_database_copy(tmp_path_factory, purpose="fuzzed")
    for server in serve_live(url, PORTAL_RATELIMIT_ENABLED="0"):  # stops the server after
        token = run_flask(server.env, "tokens", "create", "bapenda", "--label", "schemathesis")
        request = urllib.request.Request(
            f"{server}/api/v1/feedback", method="POST",
            data=b'{"kind": "question", "subject": "Jam buka", "body": "Kapan loket buka?"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            tracking_code = json.load(answer)["tracking_code"]
        yield server, token.stdout.strip().splitlines()[-1], tracking_code


def _schemathesis(fuzzed_portal, tmp_path: Path, prefix: str) -> None:
    """Run schemathesis on the operations under prefix; fail with its report if it found any."""
    server, token, tracking_code = fuzzed_portal
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("st")), "--config-file", str(SCHEMATHESIS_CONFIG),
         "--no-color", "run", f"{server}/api/v1/openapi.json", "--url", server,
         "--include-path-regex", f"^{re.escape(prefix)}", "--seed", "20250815"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PORTAL_TEST_API_TOKEN": token,
             "PORTAL_TEST_TRACKING_CODE": tracking_code},
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    print(f"schemathesis on {prefix}: {elapsed:.0f} s")


def test_schemathesis_finds_nothing_wrong_with_the_json_api(fuzzed_portal, tmp_path):
    _schemathesis(fuzzed_portal, tmp_path, "/api/v1/")


def test_schemathesis_finds_nothing_wrong_with_open311(app, fuzzed_portal, tmp_path):
    if not any(rule.rule.startswith("/open311/v2/") for rule in app.url_map.iter_rules()):
        pytest.skip("the portal serves no Open311 endpoint")
    _schemathesis(fuzzed_portal, tmp_path, "/open311/v2/")
