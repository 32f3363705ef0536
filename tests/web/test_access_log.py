"""The access log keeps no tracking code, whatever spelling a citizen or a link used."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from gunicorn.config import Config as GunicornConfig

from portal.web.access_log import (
    PrivacyLogger,
    mask_query,
    mask_request_line,
    mask_tracking_codes,
)

ROOT = Path(__file__).resolve().parents[2]
FULL_WIDTH = "Ｗ４Ｑ３ＺＱＶＡＪＨＸ５"  # what some phone keyboards type


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/id/feedback/W4Q3-ZQVA-JHX5", "/id/feedback/[code]"),
        ("/id/feedback/w4q3zqvajhx5", "/id/feedback/[code]"),
        ("/api/v1/feedback/W4Q3%20ZQVA%20JHX5", "/api/v1/feedback/[code]"),
        ("/api/v1/feedback/W4Q3 ZQVA JHX5", "/api/v1/feedback/[code]"),  # decoded PATH_INFO
        ("/api/v1/feedback/W4Q3.ZQVA.JHX5", "/api/v1/feedback/[code]"),
        ("/api/v1/feedback/W4Q3_ZQVA_JHX5", "/api/v1/feedback/[code]"),
        (f"/api/v1/feedback/{quote(FULL_WIDTH)}", "/api/v1/feedback/[code]"),
        (f"/api/v1/feedback/{FULL_WIDTH}", "/api/v1/feedback/[code]"),
        # Decoded by the server as Latin-1, as WSGI hands PATH_INFO over.
        (f"/api/v1/feedback/{FULL_WIDTH.encode().decode('latin-1')}", "/api/v1/feedback/[code]"),
        ("/id/feedback/W4Q3/ZQVA/JHX5", "/id/feedback/[code]/[code]/[code]"),
        ("/en/feedback/w4q3-zqva-jhx5/reply", "/en/feedback/[code]/reply"),
        ("/en/feedback/W4Q3ZQVAJHX5/reopen", "/en/feedback/[code]/reopen"),
        ("/en/feedback/W4Q3ZQVAJHX5/JHX5", "/en/feedback/[code]/[code]"),
        ("/id/FEEDBACK/W4Q3ZQVAJHX5", "/id/FEEDBACK/[code]"),
        ("/id/%66eedback/W4Q3ZQVAJHX5", "/id/%66eedback/[code]"),
        ("/id/feedback/published/W4Q3ZQVAJHX5", "/id/feedback/published/[code]"),
        ("/id/track/W4Q3ZQVAJHX5", "/id/track/[code]"),
        ("/id/track?code=W4Q3+ZQVA+JHX5", "/id/track?code=[code]"),
        ("/en/track?lang=en&CODE=w4q3.zqva.jhx5&x=1", "/en/track?lang=en&CODE=[code]&x=1"),
        (f"/id/track?code={quote(FULL_WIDTH)}", "/id/track?code=[code]"),
        ("https://pantau.example/id/feedback/W4Q3ZQVAJHX5?filed=1",
         "https://pantau.example/id/feedback/[code]?filed=1"),
        ("/en/staff/feedback/W4Q3ZQVAJHX5", "/en/staff/feedback/[code]"),
    ],
)
def test_every_spelling_of_a_tracking_code_is_masked(path, logged):
    assert mask_tracking_codes(path) == logged


@pytest.mark.parametrize(
    "path",
    [
        "/id/feedback",
        "/id/feedback?page=2&service=samsat-pkb-tahunan",
        "/id/feedback/new",
        "/id/feedback/published/12",
        "/id/track",
        "/en/staff/feedback/12/transfer",
        "/en/staff/feedback/12/publish_decline",
        "/en/staff/feedback/12/attachments/3",
        "/en/staff/feedback/attention",
        "/id/services/samsat-pkb-tahunan",
    ],
)
def test_the_portals_own_words_and_numbers_are_kept(path):
    assert mask_tracking_codes(path) == path


def test_only_code_parameters_of_a_query_string_are_masked():
    assert mask_query("lang=id&code=W4Q3ZQVAJHX5;%63ode=W4Q3&page=2") == (
        "lang=id&code=[code];%63ode=[code]&page=2")


def test_a_request_line_keeps_its_method_and_protocol():
    assert mask_request_line("GET /id/track?code=W4Q3%20ZQVA%20JHX5 HTTP/1.1") == (
        "GET /id/track?code=[code] HTTP/1.1")


def test_the_gunicorn_logger_masks_every_atom_that_holds_a_url():
    code = "W4Q3.ZQVA.JHX5"
    logger = PrivacyLogger(GunicornConfig())
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/id/feedback/{code}?code={code}",
        "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": f"/id/feedback/{code}",
        "QUERY_STRING": f"code={code}", "REMOTE_ADDR": "203.0.113.5",
        "HTTP_REFERER": f"https://pantau.example/id/track?code={code}",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="303 See Other", sent=0,
                               headers=[("Location", f"/id/feedback/{code}?filed=1")])

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=12))

    assert not [key for key, value in atoms.items() if "ZQVA" in str(value)]
    assert atoms["r"] == "GET /id/feedback/[code]?code=[code] HTTP/1.1"
    assert atoms["U"] == "/id/feedback/[code]"
    assert atoms["{location}o"] == "/id/feedback/[code]?filed=1"
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert "ZQVA" not in settings["access_log_format"] % atoms
