"""Languages: the URL prefix (/id/..., /en/...), locale selection and bilingual content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import lru_cache

import click
from babel.support import NullTranslations, Translations
from flask import Flask, abort, current_app, g, has_request_context, request, url_for
from flask_babel import (
    format_date,
    format_datetime,
    format_percent,
    get_locale,
    get_translations,
    gettext,
    refresh,
)
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from portal.extensions import babel

LANG_COOKIE = "lang"
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def languages() -> tuple[str, ...]:
    """Return the configured languages, the default first."""
    return tuple(current_app.config["PORTAL_LANGUAGES"])


def current_lang() -> str:
    """Return the language of the current request.

    A command (``flask --app wsgi …``) speaks English, the language of its help; what it sends
    to people (mail) chooses its language explicitly.
    """
    lang = g.get("lang")
    if lang:
        return lang
    if not has_request_context() and click.get_current_context(silent=True) is not None:
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def preferred_lang() -> str:
    """Choose a language for a URL without one: cookie, then Accept-Language, then default."""
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in languages():
        return cookie
    best = request.accept_languages.best_match(languages())
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def _pull_lang(endpoint: str | None, values: dict | None) -> None:
    """Take the language out of the URL values; an unknown language is a 404."""
    if values and "lang" in values:
        lang = values.pop("lang")
        if lang not in languages():
            abort(404)
        g.lang = lang
        # The locale is the URL's: drop any cached one (an outer app context may outlive us).
        refresh()


def _add_lang(endpoint: str, values: dict) -> None:
    """Keep the current language when building URLs that need one."""
    if "lang" in values or not g.get("lang"):
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        values["lang"] = g.lang


def _remember_lang(response):
    """Remember the language a reader chose so the bare / sends them back to it.

    Only pages do: a feed or a file in a language is cached publicly and read by programs.
    """
    lang = g.get("lang")
    if lang and response.mimetype == "text/html" and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def switch_language_url(lang: str) -> str:
    """Return the URL of the current page in another language.

    The query string is kept, except names that url_for would treat as its own options
    (``_external``, ``_method``…) or that would replace a path argument.
    """
    endpoint = request.endpoint
    if endpoint and current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        args = dict(request.view_args or {})
        args["lang"] = lang
        query = {
            key: value
            for key, value in request.args.items()
            if not key.startswith("_") and key not in args
        }
        try:
            return url_for(endpoint, **args, **query)
        except BuildError:
            return url_for(endpoint, **args)
    return url_for("public.home", lang=lang)


@dataclass(frozen=True)
class LocalText:
    """A content text in the reader's language, or the Indonesian fallback."""

    text: str
    lang: str
    is_fallback: bool

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        """Render the text, marking an Indonesian fallback with its language."""
        if not self.is_fallback:
            return str(escape(self.text))
        note = gettext("(in Indonesian)")
        return str(
            Markup('<span lang="id">{}</span> <span class="fallback-note">{}</span>').format(
                self.text, note
            )
        )


def localized(obj: object, field: str, lang: str | None = None) -> LocalText:
    """Return obj.<field>_<lang>, falling back to Indonesian when the text is missing."""
    lang = lang or current_lang()
    text = getattr(obj, f"{field}_{lang}", "") or ""
    if text.strip() or lang == "id":
        return LocalText(text, lang, False)
    return LocalText(getattr(obj, f"{field}_id", "") or "", "id", True)


def localized_text(lang: str, indonesian: str | None, english: str | None) -> str:
    """Return the text localized() gives for a content text's two columns, already read:
    the one in the reader's language, or the Indonesian one when that is blank."""
    text = (indonesian if lang == "id" else english if lang == "en" else "") or ""
    if text.strip() or lang == "id":
        return text
    return indonesian or ""


def current_translations() -> Translations | NullTranslations:
    """Return what flask-babel's ``get_translations()`` returns, looked up once per locale.

    Templates translate a hundred strings a page; flask-babel finds the translations for
    each through three context look-ups and the locale's name (about 14 µs a string here).
    They are kept beside flask-babel's own locale in its per-request namespace and used
    while that locale is the same object: ``refresh()`` and ``force_locale`` (a mail in the
    reader's language) replace it, so they are looked up again. Where that namespace is not
    found (outside a request, or another flask-babel), flask-babel is asked every time.
    """
    ctx = g.get("_flask_babel") if g else None
    found = getattr(ctx, "__dict__", {})
    locale = found.get("babel_locale")
    kept = found.get("portal_translations")
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    if ctx is not None and found.get("babel_locale") is not None:
        ctx.portal_translations = (found["babel_locale"], translations)
    return translations


def page_gettext() -> dict[str, Callable[..., str]]:
    """Return a page's ``gettext`` and ``ngettext`` bound to the request's translations.

    The same text as the callables every template has (new style: the translation is markup,
    its values escaped), with the translations looked up once for the page instead of once a
    string. Passed with a page's context (``render_template(..., **page_gettext())``), they
    serve its ``_()`` and ``{% trans %}`` and those of the templates it includes or imports
    with context. For pages that translate hundreds of strings.
    """
    translations = current_translations()

    # Dunder parameters, as Jinja's: a template may pass any name as a value, "num" too.
    @pass_context
    def gettext(__context: Context, __string: str, **variables: object) -> str:
        text = translations.ugettext(__string)
        return (Markup(text) if __context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(__context: Context, __singular: str, __plural: str, __num: int,
                 **variables: object) -> str:
        variables.setdefault("num", __num)
        text = translations.ungettext(__singular, __plural, __num)
        return (Markup(text) if __context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "ngettext": ngettext}


def _install_template_gettext(app: Flask) -> None:
    """Give templates flask-babel's gettext callables, through current_translations()."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
    )


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and the URL language prefix to the app."""
    babel.init_app(
        app,
        locale_selector=current_lang,
        timezone_selector=lambda: app.config["BABEL_DEFAULT_TIMEZONE"],
    )
    _install_template_gettext(app)
    app.url_value_preprocessor(_pull_lang)
    app.url_defaults(_add_lang)
    app.after_request(_remember_lang)
    app.jinja_env.globals.update(
        switch_language_url=switch_language_url,
        current_lang=current_lang,
        language_names=LANGUAGE_NAMES,
        localized=localized,
    )


def date_long(value: date | datetime | None) -> str:
    """Format a date (or the WIB date of a timestamp) in the reader's language."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "d MMMM y")
    return format_date(value, "d MMMM y")


# Patterns of percentages: whole, one decimal at most, two decimals at most.
_PERCENT_PATTERNS = ("#,##0%", "#,##0.#%", "#,##0.##%")
# Rates are compared with their targets with this tolerance, as the status rules do: a rate
# computed as 9/10 is at a 0.9 target even if floating point says 0.8999999999999999.
_EPSILON = 1e-9


def percent_text(fraction: float | Decimal, decimals: int = 1) -> str:
    """Format a fraction 0–1 as a percentage with at most ``decimals`` (0–2) decimals."""
    return _percent_in(fraction, type(fraction), decimals, str(get_locale()))


@lru_cache(maxsize=4096)
def _percent_in(fraction: float | Decimal, _kind: type, decimals: int, _locale: str) -> str:
    # Memoised per value and language: tables show the same rates many times, and Babel's
    # formatting costs far more than the look-up.
    return format_percent(fraction, _PERCENT_PATTERNS[decimals])


def rate_against_target_percent(rate: float, target: float) -> str:
    """Format a rate beside its target: a rate below the target never reads as reaching it.

    One decimal at most, as every rate; but rounding alone would show 0.8996 as "90%" beside
    "at risk against a 90% commitment". A rate below its target gets a second decimal when
    one would reach the target (89.96%), and is cut (not rounded) at two decimals when even
    that would (0.89999: 89.99%). A rate at or above its target is rounded as usual and
    cannot fall below a target of whole or tenth percents. The service's status sentence
    (stored and sent by the API) and the pages both use it.
    """
    if rate >= target - _EPSILON:
        return percent_text(rate, 1)
    shown_percent, limit = Decimal(repr(rate)) * 100, Decimal(repr(target)) * 100
    for places, rounding in ((1, ROUND_HALF_EVEN), (2, ROUND_HALF_EVEN), (2, ROUND_FLOOR)):
        shown = shown_percent.quantize(Decimal(1).scaleb(-places), rounding=rounding)
        if shown < limit:
            break
    return percent_text(shown / 100, 2)
