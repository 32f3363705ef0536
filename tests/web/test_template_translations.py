"""Templates translate through the translations kept for the request's locale
(portal.i18n.current_translations): the same words as flask-babel, whatever switches it."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, gettext, refresh

from portal.i18n import current_translations

TEMPLATE = ('{{ _("Services") }}|'
            '{{ ngettext("%(count)s service", "%(count)s services", 3, count=3) }}')


def _render() -> str:
    return render_template_string(TEMPLATE)


def test_templates_speak_the_language_of_the_url(app):
    with app.test_request_context("/id/"):
        app.preprocess_request()
        assert _render() == "Layanan|3 layanan"
    with app.test_request_context("/en/"):
        app.preprocess_request()
        assert _render() == "Services|3 services"


def test_a_forced_locale_is_followed_and_then_left(app):
    with app.test_request_context("/id/"):
        app.preprocess_request()
        assert _render() == "Layanan|3 layanan"
        with force_locale("en"):
            assert _render() == "Services|3 services"
            assert current_translations().ugettext("Services") == gettext("Services")
        assert _render() == "Layanan|3 layanan"


def test_a_refreshed_locale_is_followed(app):
    with app.test_request_context("/en/"):
        app.preprocess_request()
        assert _render() == "Services|3 services"
        from flask import g

        g.lang = "id"
        refresh()
        assert _render() == "Layanan|3 layanan"


def test_outside_a_request_flask_babel_decides(app):
    assert current_translations().ugettext("Services") == gettext("Services")
