"""The subscription pages: linked from service, department and home pages, private, masked."""

from __future__ import annotations

import pytest

from portal.web.access_log import mask_tracking_codes
from tests.factories import create_department, create_service


@pytest.fixture
def service(app):
    department = create_department(code="dukcapil", name_en="Civil Registry Office")
    return create_service(code="ktp-el", name_en="e-ID card recording", department=department)


@pytest.mark.parametrize(("page", "link"), [
    ("/en/services/ktp-el", "/en/subscribe?service=ktp-el"),
    ("/id/departments/dukcapil", "/id/subscribe?department=dukcapil"),
    ("/en/", "/en/subscribe"),
    ("/id/", "/id/subscribe?digest=dprd"),
])
def test_public_pages_link_to_the_subscription_form(client, service, page, link):
    assert f'href="{link}"' in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize(("path", "what"), [
    ("/en/subscribe?service=ktp-el", "the service e-ID card recording"),
    ("/en/subscribe?department=dukcapil", "the department Civil Registry Office"),
    ("/en/subscribe", "every service of the province"),
    ("/en/subscribe?digest=dprd", "the weekly DPRD digest"),
])
def test_the_form_says_what_is_followed_and_is_never_cached(client, service, path, what):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Get e-mail about {what}" in html
    assert ('name="topic_status"' in html) == ("digest" not in path)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'name="csrf_token"' in html


def test_an_unknown_service_or_department_is_a_404(client, service):
    assert client.get("/en/subscribe?service=nope").status_code == 404
    assert client.get("/id/subscribe?department=nope").status_code == 404


def test_request_logs_mask_the_tokens_of_subscription_links():
    assert mask_tracking_codes("/en/unsubscribe/Zx9_-abc") == "/en/unsubscribe/[code]"
    assert (mask_tracking_codes("https://p.example/id/subscriptions/confirm/Q1w2?x=1")
            == "https://p.example/id/subscriptions/confirm/[code]?x=1")
    assert mask_tracking_codes("/id/subscribe?service=ktp-el") == "/id/subscribe?service=ktp-el"
