"""Status badges for other sites: accessible, safe, cacheable SVG."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest

from portal.domain.calendar import utc_now, wib_date
from portal.web.public import badges
from portal.web.public.live import page_cache
from tests.wfa_support import create_due_service, report_window

SVG = "{http://www.w3.org/2000/svg}"


def contrast(foreground: str, background: str) -> float:
    """Return the WCAG contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def meeting(app):
    """A service meeting its commitment: 19 of 20 requests due in the window on time."""
    service = create_due_service(code="samsat-pkb", name_id="Pembayaran PKB",
                                 name_en="Vehicle tax <payment>")
    report_window(service, wib_date(utc_now()) - timedelta(days=20), 20, on_time=19, late=1)
    return service


def badge(client, path: str) -> tuple[ET.Element, object]:
    """GET a badge that must answer 200 as SVG and parse it as XML."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "image/svg+xml"
    return ET.fromstring(response.data), response


def texts(svg: ET.Element) -> list[str]:
    """Return the visible texts of a badge."""
    return [text.text for text in svg.iter(f"{SVG}text")]


def test_badge_shows_status_and_on_time_rate_in_indonesian_by_default(client, meeting):
    svg, _ = badge(client, "/badge/services/samsat-pkb.svg")

    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    label, message = texts(svg)
    assert label == "Pantau Layanan"
    assert message.startswith("Memenuhi komitmen · 95%")
    title = svg.findtext(f"{SVG}title")
    assert title.startswith("Pembayaran PKB: ")
    assert svg.get("aria-label") == title


def test_badge_in_english(client, meeting):
    svg, _ = badge(client, "/badge/services/samsat-pkb.svg?lang=en")

    assert texts(svg) == ["Pantau Layanan", "Meeting its commitment · 95% on time"]
    assert svg.findtext(f"{SVG}title") == (
        "Vehicle tax <payment>: Meeting its commitment; 95% of the requests due over the "
        "last 30 days were completed on time (Pantau Layanan)")


def test_badge_of_a_service_without_data_says_so_without_a_rate(client, app):
    create_due_service(code="quiet", name_en="Quiet service")

    svg, _ = badge(client, "/badge/services/quiet.svg?lang=en")

    assert texts(svg) == ["Pantau Layanan", "No data"]


def test_badge_colours_keep_white_text_readable(client, meeting):
    from portal.web.public.badges import LABEL_COLOUR, STATUS_COLOURS

    for colour in [LABEL_COLOUR, *STATUS_COLOURS.values()]:
        assert contrast("#ffffff", colour) >= 4.5, colour
    svg, _ = badge(client, "/badge/services/samsat-pkb.svg")
    fills = [rect.get("fill") for rect in svg.iter(f"{SVG}rect")]
    assert fills == [LABEL_COLOUR, STATUS_COLOURS["meeting"]]


def test_badge_is_safe_to_embed(client, meeting):
    svg, response = badge(client, "/badge/services/samsat-pkb.svg?lang=en")

    body = response.get_data(as_text=True)
    assert "<script" not in body.lower() and not re.search(r"\son\w+=", body)
    assert "<payment>" not in body and "&lt;payment&gt;" in body
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert "Set-Cookie" not in response.headers


def test_badge_is_cacheable_and_answers_304(client, meeting):
    _, first = badge(client, "/badge/services/samsat-pkb.svg")

    assert first.cache_control.public and 60 <= first.cache_control.max_age <= 900
    again = client.get("/badge/services/samsat-pkb.svg",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    english = client.get("/badge/services/samsat-pkb.svg?lang=en",
                         headers={"If-None-Match": first.headers["ETag"]})
    assert english.status_code == 200


def test_unknown_service_badge_is_not_found(client, app):
    assert client.get("/badge/services/no-such-service.svg").status_code == 404


def test_service_page_shows_the_badge_snippet_to_copy(client, meeting):
    html = client.get("/en/services/samsat-pkb").get_data(as_text=True)

    assert '<img src="/badge/services/samsat-pkb.svg?lang=en"' in html
    snippet = re.search(r'<textarea id="badge-code"[^>]*readonly[^>]*>([^<]*)</textarea>', html)
    assert snippet, "the snippet is in a read-only text area"
    code = snippet.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"')
    assert re.fullmatch(
        r'<a href="[^"]+/en/services/samsat-pkb"><img src="[^"]+/badge/services/'
        r'samsat-pkb\.svg\?lang=en" alt="[^"]+" height="20"></a>', code)
    indonesian = client.get("/id/services/samsat-pkb").get_data(as_text=True)
    assert '<img src="/badge/services/samsat-pkb.svg"' in indonesian


def test_a_kept_badge_changes_with_the_services_status(app, client, meeting, monkeypatch):
    # With the page cache on the badge is read once per data version, as the pages are.
    reads: list[str] = []
    real = badges.service_get

    def counted(code: str, related: bool = True):
        reads.append(code)
        return real(code, related)

    monkeypatch.setattr(badges, "service_get", counted)
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_SECONDS", 60)
    page_cache().clear()
    try:
        first, _ = badge(client, "/badge/services/samsat-pkb.svg?lang=en")
        again, _ = badge(client, "/badge/services/samsat-pkb.svg?lang=en")
        assert reads == ["samsat-pkb"]
        assert texts(again) == texts(first)
        assert texts(first)[1].startswith("Meeting its commitment")
        # Late requests in the window make it miss its commitment: a new status and a new
        # data version (read afresh: its one-second reuse forgotten), so a new badge.
        report_window(meeting, wib_date(utc_now()) - timedelta(days=10), 5, late=40)
        page_cache().version_read = (float("-inf"), page_cache().version_read[1])
        changed, _ = badge(client, "/badge/services/samsat-pkb.svg?lang=en")
        assert texts(changed) != texts(first)
        assert len(reads) == 2
    finally:
        page_cache().clear()
