"""The developer page states the feedback limit in the reader's language."""

from __future__ import annotations


def test_the_feedback_limit_is_stated_in_english_words(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_FEEDBACK_RATE_LIMIT", "30 per hour")
    html = client.get("/en/developers").get_data(as_text=True)
    assert "at most 30 per hour from one address" in html
    assert "per 1 hour" not in html


def test_the_feedback_limit_is_stated_in_indonesian_words(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_FEEDBACK_RATE_LIMIT", "30 per hour")
    html = client.get("/id/developers").get_data(as_text=True)
    assert "30 per jam" in html
    assert "per hour" not in html
