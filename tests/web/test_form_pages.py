"""Form pages kept by the page cache without their visitors' tokens (live.form_page): each
visitor gets a CSRF token and one-time tokens of their own, and each can send the form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Feedback, Subscription, SurveyResponse
from portal.web.feedback import pages as feedback_pages
from portal.web.public.live import page_cache
from portal.web.survey import pages as survey_pages
from tests.factories import create_service, create_user, csrf_token_from, login
from tests.feedback_support import create_triage_unit


@pytest.fixture
def cache_on(app):
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 60
    page_cache().clear()
    yield
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 0
    page_cache().clear()


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """Count the feedback form's renders (its select of every service is what is kept)."""
    calls: list[str] = []
    real = feedback_pages.service_select_choices

    def counted(lang: str):
        calls.append(lang)
        return real(lang)

    monkeypatch.setattr(feedback_pages, "service_select_choices", counted)
    return calls


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]+)"', html) or re.search(
        rf'value="([^"]+)"[^>]*name="{name}"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def _feedback_form(client) -> tuple[str, dict[str, str]]:
    html = client.get("/en/feedback/new?service=ktp-el").get_data(as_text=True)
    return html, {"csrf_token": csrf_token_from(html),
                  "client_token": _hidden(html, "client_token")}


def _without(html: str, tokens: dict[str, str]) -> str:
    """Return a page with its tokens' values replaced by their names."""
    for name, token in tokens.items():
        html = html.replace(token, name)
    return html


def _file(client, hidden: dict[str, str]):
    return client.post("/en/feedback/new", content_type="multipart/form-data", data={
        "kind": "complaint", "subject": "Antrean panjang", "body": "Tiga jam menunggu.",
        "regency": "", "identity": "normal", "name": "", "email": "", "phone": "",
        "website": "", "service": "ktp-el", **hidden})


def test_a_kept_feedback_form_gives_each_visitor_their_own_tokens(app, cache_on, renders):
    create_triage_unit()
    create_service(code="ktp-el", name_en="ID card")
    first, second = app.test_client(), app.test_client()
    first_html, first_tokens = _feedback_form(first)
    second_html, second_tokens = _feedback_form(second)
    # Rendered once: the second visitor got the kept page, with tokens of their own.
    assert renders == ["en"]
    assert first_tokens["csrf_token"] != second_tokens["csrf_token"]
    assert first_tokens["client_token"] != second_tokens["client_token"]
    for token in first_tokens.values():
        assert token not in second_html
    assert "\x00" not in second_html
    assert re.search(r'<option selected value="ktp-el">|<option value="ktp-el" selected>',
                     second_html)
    # The same page but for the tokens.
    assert _without(first_html, first_tokens) == _without(second_html, second_tokens)
    # Another visitor's CSRF token is refused; each visitor's own files the feedback.
    assert _file(second, {**second_tokens,
                          "csrf_token": first_tokens["csrf_token"]}).status_code == 400
    assert _file(second, second_tokens).status_code == 303
    assert _file(first, first_tokens).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == 2


def test_a_visitor_whose_session_holds_more_than_a_csrf_token_gets_the_form_rendered(
        app, cache_on, renders):
    create_service(code="ktp-el", name_en="ID card")
    create_user(username="officer", role="admin")
    _feedback_form(app.test_client())
    staff = app.test_client()
    login(staff, "officer")
    _feedback_form(staff)
    assert renders == ["en", "en"]  # not the kept page: a login is in the session
    # A visitor back with the CSRF token of a first visit gets the kept page.
    citizen = app.test_client()
    _feedback_form(citizen)
    _feedback_form(citizen)
    assert renders == ["en", "en"]


def test_with_the_cache_off_every_visit_renders_the_form(app, renders):
    create_service(code="ktp-el", name_en="ID card")
    _feedback_form(app.test_client())
    _feedback_form(app.test_client())
    assert renders == ["en", "en"]


def test_a_kept_survey_form_gives_each_visitor_a_visit_token_that_records_an_answer(
        app, cache_on):
    create_service(code="ktp", name_en="Identity card")
    pages = [(client, client.get("/en/services/ktp/survey").get_data(as_text=True))
             for client in (app.test_client(), app.test_client())]
    tokens = [_hidden(html, "visit_token") for _client, html in pages]
    assert tokens[0] != tokens[1]
    assert tokens[0] not in pages[1][1]
    for client, html in pages:
        data = {"csrf_token": csrf_token_from(html), "visit_token": _hidden(html, "visit_token"),
                "feedback": "", "website": "", **{f"u{i}": "3" for i in range(1, 10)}}
        assert client.post("/en/services/ktp/survey", data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 2


def test_a_kept_subscription_form_takes_each_visitors_own_csrf_token(app, cache_on):
    create_service(code="ktp-el", name_en="ID card")
    visitors = [app.test_client(), app.test_client()]
    pages = [client.get("/en/subscribe?service=ktp-el").get_data(as_text=True)
             for client in visitors]
    tokens = [csrf_token_from(html) for html in pages]
    assert tokens[0] != tokens[1] and tokens[0] not in pages[1]
    assert _without(pages[0], {"csrf": tokens[0]}) == _without(pages[1], {"csrf": tokens[1]})
    for n, (client, token) in enumerate(zip(visitors, tokens, strict=True)):
        answer = client.post("/en/subscribe?service=ktp-el", data={
            "csrf_token": token, "email": f"warga{n}@example.com", "topic_status": "y"})
        assert answer.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 2


def test_a_kept_survey_form_reads_its_service_only_when_rendered(app, cache_on, monkeypatch):
    create_service(code="ktp", name_en="Identity card")
    reads: list[str] = []
    real = survey_pages._service
    monkeypatch.setattr(survey_pages, "_service", lambda code: reads.append(code) or real(code))
    for client in (app.test_client(), app.test_client()):
        assert client.get("/en/services/ktp/survey").status_code == 200
    assert reads == ["ktp"]
    # An unknown service is never kept: 404 on every visit.
    for _ in range(2):
        assert app.test_client().get("/en/services/nope/survey").status_code == 404
    assert reads == ["ktp", "nope", "nope"]


@pytest.mark.parametrize("path", ["/en/feedback/new", "/en/services/ktp/survey"])
def test_a_head_request_for_a_form_answers_as_its_page_does(app, path):
    # Link checkers and monitors ask with HEAD: the form's page, not a refused submission.
    create_service(code="ktp", name_en="Identity card")
    client = app.test_client()
    got = client.get(path)
    head = client.head(path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.get_data() == b""
