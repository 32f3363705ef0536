"""The developer page: both languages, no JavaScript, every error kind explained, and every
curl example on it actually works against the portal."""

from __future__ import annotations

import html
import re
import shlex
from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from portal.domain.calendar import utc_now, wib_date
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import FIELD_ERROR_CODES
from portal.services.metrics.tokens import token_create
from portal.services.open311.keys import open311_key_create
from portal.web.api.problems import PROBLEM_TYPES
from tests.accountability_support import move
from tests.factories import create_department, create_service
from tests.feedback_support import create_triage_unit, valid_data

BASE = "http://127.0.0.1:8000"
CODE_BLOCK = re.compile(r'<pre class="code-example"[^>]*><code>(.*?)</code></pre>', re.S)


@pytest.mark.parametrize(("lang", "title"), [("en", "For developers"),
                                             ("id", None)])
def test_the_page_exists_in_both_languages_without_javascript(client, lang, title):
    response = client.get(f"/{lang}/developers")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert "<script" not in page
    assert page.count("<h1>") == 1
    if title:
        assert f"<h1>{title}</h1>" in page
    # Every example shows the portal's own address, from its configuration.
    assert f"{BASE}/api/v1/services?lang={lang}" in page


def test_every_page_links_to_it_from_the_footer(client):
    for lang in ("id", "en"):
        footer = client.get(f"/{lang}/").get_data(as_text=True).split('<footer', 1)[1]
        assert f'href="/{lang}/developers"' in footer


@pytest.mark.parametrize(("accept", "lang"), [("en-GB,en;q=0.9", "en"), ("id", "id")])
def test_the_address_problem_types_point_to_sends_the_reader_to_their_language(
        client, accept, lang):
    response = client.get("/developers", headers={"Accept-Language": accept})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/{lang}/developers")


def test_every_kind_of_problem_and_field_code_is_explained_where_type_points(client):
    page = client.get("/en/developers").get_data(as_text=True)
    for slug, kind in PROBLEM_TYPES.items():
        row = re.search(rf'<tr id="problem-{slug}">(.*?)</tr>', page, re.S)
        assert row, slug
        assert html.escape(str(kind.explanation), quote=False) in row.group(1)
    for code in FIELD_ERROR_CODES:
        assert f'<tr id="code-{code}">' in page


@pytest.fixture
def reader_values(app) -> dict[str, str]:
    """Real values for the placeholders of the examples: a service that moved to WFA, its
    department's token, a feedback's tracking code and an Open311 key."""
    create_triage_unit()
    department = create_department(code="dinas-a")
    service = create_service(department=department, code="izin-a")
    move(service, "wfa", wib_date(utc_now()) - timedelta(days=40))
    _token, token = token_create("dinas-a", "developer page", actor=CLI_OPERATOR)
    _key, api_key = open311_key_create("developer page", actor=CLI_OPERATOR)
    return {"SERVICE_CODE": "izin-a", "TOKEN": token, "API_KEY": api_key}


def _replay(client, command: str):
    """Send what a curl command of the page sends, through the test client."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl"
    method, headers, form, body = None, {}, MultiDict(), None
    args = iter(words[1:-1])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            name, _sep, value = next(args).partition(": ")
            headers[name] = value
        elif word in ("-d", "--data-urlencode"):
            data = next(args)
            if headers.get("Content-Type") == "application/json":
                body = data
            else:
                form.add(*data.split("=", 1))
        else:
            assert word in ("-s", "-OJ"), word
    url = words[-1]
    assert url.startswith(BASE)
    return client.open(url.removeprefix(BASE), method=method or ("POST" if form else "GET"),
                       headers=headers, data=body if body is not None else form)


def test_every_example_runs_as_written(client, reader_values):
    tracking = client.post("/api/v1/feedback", json=valid_data()).get_json()["tracking_code"]
    values = {**reader_values, "TRACKING_CODE": tracking}
    for lang in ("en", "id"):
        page = client.get(f"/{lang}/developers").get_data(as_text=True)
        commands = [html.unescape(block) for block in CODE_BLOCK.findall(page)
                    if html.unescape(block).startswith("curl")]
        assert len(commands) >= 10
        for command in commands:
            for placeholder, value in values.items():
                command = command.replace(placeholder, value)
            response = _replay(client, command)
            assert 200 <= response.status_code < 300, (command, response.get_data(as_text=True))
