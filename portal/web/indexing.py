"""For search engines and browsers: robots.txt, sitemap.xml, the favicon and the touch icon.

All four are served at the site's root, without a language prefix or redirect. The sitemap
is built from the URL map: every public page (a GET route under ``/<lang>/`` that is neither
a staff screen, a citizen's own feedback, a form, a feed nor a file), once per language,
each naming its twin in every language (``xhtml:link`` hreflang). Pages of one object (a
service, a department, an incident) are listed for every object of the catalogue.

The sitemap gives no ``lastmod``, on purpose: the pages show live figures over windows that
move every day (the 30-day status, "days since the last report", incidents opened and
resolved), so a date the portal could honestly give would read "today" for nearly every page,
and search engines learn to ignore a ``lastmod`` that always says so. A wrong, older date
would be worse: it tells a crawler not to come back to a page whose status has changed.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request, send_file

from portal.config import BASE_DIR
from portal.domain.calendar import utc_now
from portal.i18n import languages
from portal.services.opendata.sitemap import PublicObjects, public_objects
from portal.web.public.live import cached_body
from portal.web.urls import absolute_url_for, address_maker, base_url
from portal.web.xml_text import xml_attribute, xml_text

bp = Blueprint("indexing", __name__)

ICONS = BASE_DIR / "static" / "icons"
ICON_MAX_AGE = 24 * 3600
SITEMAP_MAX_AGE = 3600
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Blueprints whose pages are never listed: staff screens, machine answers, operations, and
# e-mail subscriptions (a form for an address, and pages reached by a mailed link).
PRIVATE_BLUEPRINTS = ("staff", "api", "open311", "ops", "feeds", "badges", "indexing", "root",
                      "subscriptions")
# Pages under /<lang>/ that are not for search engines: a citizen's own feedback and its
# tracking, forms, the freshness poll, printable duplicates.
UNLISTED_ENDPOINTS = (
    "public.live", "feedback.new", "feedback.track", "feedback.show", "survey.form",
    "survey.thanks", "accountability.report", "accountability.report_download",
    "accountability.table_report",
    # A service's day and week tables: the service page (listed) links them.
    "public.service_tables",
)
# Pages of one object: which objects, and the name of the URL argument that names them.
OBJECT_PAGES = {
    "public.service": ("services", "code"),
    "public.department": ("departments", "code"),
    "accountability.department": ("departments", "code"),
    # The scorecard's WFA impact and history of changes, in full (the scorecard links them).
    "accountability.department_wfa_impact": ("departments", "code"),
    "accountability.department_changes": ("departments", "code"),
    "incidents.detail": ("incidents", "incident_id"),
}


def _is_file(rule: str) -> bool:
    """Tell whether a route serves a file (a feed, a PDF, a download), not a page."""
    return "." in rule.rsplit("/", 1)[-1]


def sitemap_endpoints() -> list[tuple[str, tuple[str, str] | None]]:
    """Return the endpoints the sitemap lists, with the objects of an object page."""
    found = []
    for rule in current_app.url_map.iter_rules():
        endpoint = rule.endpoint
        if ("GET" not in (rule.methods or ()) or "lang" not in rule.arguments
                or endpoint.split(".", 1)[0] in PRIVATE_BLUEPRINTS
                or endpoint in UNLISTED_ENDPOINTS or _is_file(rule.rule)):
            continue
        if rule.arguments == {"lang"}:
            found.append((endpoint, None))
        elif endpoint in OBJECT_PAGES and rule.arguments == {"lang", OBJECT_PAGES[endpoint][1]}:
            found.append((endpoint, OBJECT_PAGES[endpoint]))
    return sorted(found, key=lambda item: item[0])


def _addresses(endpoint: str, argument: str, keys: list, langs: list[str]) -> Iterator[
        dict[str, str]]:
    """Yield the page of each key of an object page as {language: absolute address}.

    url_for costs tens of microseconds an address and the sitemap has thousands: each
    language's address is built once (portal.web.urls.address_maker), each key put in it.
    """
    makers = {lang: address_maker(endpoint, argument, absolute=True, lang=lang)
              for lang in langs}
    for key in keys:
        yield {lang: make(key) for lang, make in makers.items()}


def sitemap_pages(objects: PublicObjects) -> Iterator[dict[str, str]]:
    """Yield each public page as {language: absolute address}."""
    langs = languages()
    for endpoint, source in sitemap_endpoints():
        if source is None:
            yield {lang: absolute_url_for(endpoint, lang=lang) for lang in langs}
        else:
            collection, argument = source
            yield from _addresses(endpoint, argument, getattr(objects, collection), langs)


@bp.get("/sitemap.xml")
def sitemap():
    """List every public page in every language, each with its language alternates.

    Written as text, byte for byte what ElementTree wrote (the namespaces declared on the
    root, ``<xhtml:link ... />``): serialising its tree of thousands of elements in Python
    cost most of the answer's time.
    """
    kept = cached_body(lambda: (_sitemap_text().encode("utf-8"), utc_now()))
    response = Response(kept.body, content_type="application/xml; charset=utf-8")
    response.cache_control.public = True
    response.cache_control.max_age = SITEMAP_MAX_AGE
    response.set_etag(kept.etag)
    return response.make_conditional(request)


def _sitemap_text() -> str:
    """Write the sitemap (kept by the page cache while the public data version holds)."""
    langs = languages()
    default = langs[0]
    parts = ["<?xml version='1.0' encoding='utf-8'?>\n",
             f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">']
    for addresses in sitemap_pages(public_objects()):
        links = "".join(
            f'<xhtml:link rel="alternate" hreflang="{xml_attribute(code)}" '
            f'href="{xml_attribute(href)}" />'
            for code, href in [*addresses.items(), ("x-default", addresses[default])])
        for lang in langs:
            parts.append(f"<url><loc>{xml_text(addresses[lang])}</loc>"
                         f"{links}</url>")
    parts.append("</urlset>")
    return "".join(parts)


def robots_text() -> str:
    """Return robots.txt: public pages allowed; staff, tracking, forms and writes not."""
    lines = ["User-agent: *"]
    for lang in languages():
        # Allow before Disallow: crawlers that take the first match agree with those that
        # take the longest one.
        lines += [
            f"Allow: /{lang}/feedback/published/",
            f"Disallow: /{lang}/staff/",
            f"Disallow: /{lang}/track",
            f"Disallow: /{lang}/feedback/",
            f"Disallow: /{lang}/live",
            f"Disallow: /{lang}/services/*/survey",
            f"Disallow: /{lang}/subscribe",
            f"Disallow: /{lang}/subscriptions/",
            f"Disallow: /{lang}/unsubscribe/",
        ]
    lines += [
        "Disallow: /api/v1/feedback",
        "Disallow: /api/v1/service-requests",
        "Disallow: /open311/v2/requests",
        "Disallow: /healthz",
        "Disallow: /readyz",
        "Disallow: /metrics",
        "Allow: /",
        "",
        f"Sitemap: {base_url()}/sitemap.xml",
    ]
    return "\n".join(lines) + "\n"


@bp.get("/robots.txt")
def robots():
    """Tell crawlers what to index and where the sitemap is."""
    response = Response(robots_text(), content_type="text/plain; charset=utf-8")
    response.cache_control.public = True
    response.cache_control.max_age = SITEMAP_MAX_AGE
    return response


def _icon(name: str, mimetype: str):
    """Serve an icon from static/icons, cacheable for a day."""
    response = send_file(ICONS / name, mimetype=mimetype, max_age=ICON_MAX_AGE,
                         conditional=True)
    response.cache_control.public = True
    return response


@bp.get("/favicon.ico")
def favicon():
    """Serve the favicon (browsers ask for it at the root)."""
    return _icon("favicon.ico", "image/vnd.microsoft.icon")


@bp.get("/apple-touch-icon.png")
def touch_icon():
    """Serve the icon phones put on the home screen (asked for at the root)."""
    return _icon("apple-touch-icon.png", "image/png")
