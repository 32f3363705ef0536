"""Status badges: a small SVG image of a service's status for department websites.

``/badge/services/CODE.svg`` (Indonesian; ``?lang=en`` for English) shows the portal's name
and the service's status with its on-time rate over the status window, coloured by status
(white text on colours of at least 4.5:1 contrast). It is an image for other sites: it sets
no cookie (the language comes from the query string, never stored), carries its text as
``<title>`` and ``aria-label`` for screen readers, holds no script, escapes every text, and
is cacheable (ETag, a few minutes public) so that a busy department page costs little.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal.domain.calendar import utc_now
from portal.i18n import languages, localized
from portal.models.catalogue import Service
from portal.services.catalogue.directory import service_get
from portal.services.metrics.status import STATUS_WINDOW_DAYS, status_for_services
from portal.web.formatting import rate_against_target_text
from portal.web.labels import service_status_label
from portal.web.public.live import cached_body
from portal.web.urls import absolute_url_for

bp = Blueprint("badges", __name__)

# Browsers and proxies may reuse a badge this long without asking again (seconds).
BADGE_MAX_AGE = 300
# Background of each status (text is white): the portal's palette, all >= 4.5:1 on white.
STATUS_COLOURS = {
    "meeting": "#1e6b3a",
    "at_risk": "#7a4b00",
    "breaching": "#a1221b",
    "disrupted": "#a1221b",
    "insufficient_data": "#4a4f57",
    "no_data": "#4a4f57",
}
LABEL_COLOUR = "#1b1f24"
# The statuses judged on the on-time rate: only they show it.
JUDGED = ("meeting", "at_risk", "breaching")
HEIGHT = 20
FONT_SIZE = 11
PADDING = 6
# A generous average advance of the badge font (DejaVu Sans / Verdana at 11 px), in pixels:
# the texts are laid out with textLength, so they always fit the box computed from it.
CHAR_WIDTH = 6.6


def _width(text: str) -> int:
    """Return the width of a badge segment holding a text."""
    return round(len(text) * CHAR_WIDTH) + 2 * PADDING


def badge_svg(label: str, message: str, colour: str, title: str) -> str:
    """Return a two-segment badge (label | message) as SVG text, every text escaped."""
    left, right = _width(label), _width(message)
    total = left + right
    return str(Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{h}" '
        'viewBox="0 0 {total} {h}" role="img" aria-label="{title}">'
        "<title>{title}</title>"
        '<rect width="{left}" height="{h}" fill="{label_colour}"/>'
        '<rect x="{left}" width="{right}" height="{h}" fill="{colour}"/>'
        '<g fill="#ffffff" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" '
        'font-size="{size}" text-anchor="middle">'
        '<text x="{lx}" y="14" textLength="{lt}" lengthAdjust="spacingAndGlyphs">{label}</text>'
        '<text x="{rx}" y="14" textLength="{rt}" lengthAdjust="spacingAndGlyphs">{message}'
        "</text></g></svg>"
    ).format(
        total=total, h=HEIGHT, title=title, left=left, right=right,
        label_colour=LABEL_COLOUR, colour=escape(colour), size=FONT_SIZE,
        lx=left / 2, lt=left - 2 * PADDING, label=label,
        rx=left + right / 2, rt=right - 2 * PADDING, message=message,
    ))


def _texts(service, view, lang: str) -> tuple[str, str, str]:
    """Return the badge's label, message and accessible title, in the given language."""
    with force_locale(lang):
        status = service_status_label(view.status)
        name = localized(service, "name", lang).text
        rate = view.reason_params.get("rate")
        judged = view.reason_params.get("data_status") in JUDGED and rate is not None
        if judged:
            rate_text = rate_against_target_text(rate, view.reason_params.get("target"))
            message = _("%(status)s · %(rate)s on time", status=status, rate=rate_text)
            title = _("%(service)s: %(status)s; %(rate)s of the requests due over the last "
                      "%(days)d days were completed on time (Pantau Layanan)",
                      service=name, status=status, rate=rate_text, days=STATUS_WINDOW_DAYS)
        else:
            message = status
            title = _("%(service)s: %(status)s (Pantau Layanan)", service=name, status=status)
        return _("Pantau Layanan"), message, title


def _badge_values(lang: str) -> dict[str, str]:
    """Return the query of a badge's address in a language (none for the default one)."""
    return {} if lang == current_app.config["BABEL_DEFAULT_LOCALE"] else {"lang": lang}


@bp.app_template_global()
def badge_url(service: Service, lang: str) -> str:
    """Return the (relative) address of a service's badge in a language."""
    return url_for("badges.service", code=service.code, **_badge_values(lang))


@bp.app_template_global()
def badge_alt(service: Service) -> str:
    """Return the text that stands for the badge image in the reader's language."""
    return _("Status of %(service)s on Pantau Layanan",
             service=localized(service, "name").text)


@bp.app_template_global()
def badge_snippet(service: Service, lang: str) -> str:
    """Return the HTML another site copies to show the badge, linking to the service page."""
    return str(Markup('<a href="{page}"><img src="{badge}" alt="{alt}" height="20"></a>').format(
        page=absolute_url_for("public.service", code=service.code, lang=lang),
        badge=absolute_url_for("badges.service", code=service.code, **_badge_values(lang)),
        alt=badge_alt(service),
    ))


@bp.get("/badge/services/<code>.svg")
def service(code: str):
    """Serve a service's status badge (``?lang=en`` for English)."""
    lang = request.args.get("lang", "")
    if lang not in languages():
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]

    def build() -> tuple[bytes, datetime]:
        found = service_get(code, related=False)  # its name is all the badge shows of it
        view = status_for_services([found.id])[found.id]
        label, message, title = _texts(found, view, lang)
        return badge_svg(label, message, STATUS_COLOURS.get(view.status, LABEL_COLOUR),
                         title).encode(), utc_now()

    # Kept while the public data version (statuses, catalogue) holds, as the pages are.
    kept = cached_body(build)
    response = current_app.response_class(kept.body,
                                          content_type="image/svg+xml; charset=utf-8")
    response.cache_control.public = True
    response.cache_control.max_age = BADGE_MAX_AGE
    # Opened on its own, the image may run nothing and load nothing; other sites may embed it.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.set_etag(kept.etag)
    return response.make_conditional(request)
