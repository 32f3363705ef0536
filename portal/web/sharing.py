"""What a page tells search engines and link previews: canonical and language addresses.

Every public page has one address per language (``/id/...``, ``/en/...``). Its head names
the canonical address of the page in its own language (the path, and the page number of a
paged list; filters are views of the same page), the same page in every language
(``hreflang``, with Indonesian as ``x-default``) and the OpenGraph and Twitter card fields
that WhatsApp, Facebook and others show when a link is shared. Error pages carry none of
these. Addresses come from PORTAL_BASE_URL, never from the Host header.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request, url_for
from werkzeug.routing import BuildError

from portal.i18n import current_lang, languages, localized
from portal.models.catalogue import Service
from portal.web.urls import absolute_path, absolute_url_for

# The locale OpenGraph names for each language of the portal.
OG_LOCALES = {"id": "id_ID", "en": "en_US"}
# Pages search engines should not index: staff screens, a citizen's own feedback, forms.
NOINDEX_BLUEPRINTS = ("staff", "subscriptions")
NOINDEX_ENDPOINTS = ("feedback.new", "feedback.show", "feedback.track", "survey.form",
                     "survey.thanks")


@dataclass(frozen=True)
class PageAddresses:
    """The canonical address of the page and its address in every language."""

    canonical: str
    alternates: dict[str, str]  # language code (and "x-default") -> absolute address
    og_locale: str
    og_locale_alternates: list[str]
    indexable: bool


def _address_in(lang: str) -> str | None:
    """Return the absolute address of the current page in a language (None if it has none)."""
    endpoint = request.endpoint
    if not endpoint or not current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        return None
    values = dict(request.view_args or {})
    values["lang"] = lang
    page = request.args.get("page", "")
    if page.isdigit() and page != "1":
        values["page"] = page
    try:
        path = url_for(endpoint, **values)
    except BuildError:
        return None
    script_root = request.script_root
    if script_root and path.startswith(script_root):
        path = path[len(script_root):]
    return absolute_path(path)


def page_addresses() -> PageAddresses | None:
    """Return the addresses of the current page, or None (error pages, pages without one)."""
    if g.get("page_is_error"):
        return None
    lang = current_lang()
    canonical = _address_in(lang)
    if canonical is None:
        return None
    alternates = {code: _address_in(code) or canonical for code in languages()}
    alternates["x-default"] = alternates[languages()[0]]
    endpoint = request.endpoint or ""
    indexable = (endpoint.split(".", 1)[0] not in NOINDEX_BLUEPRINTS
                 and endpoint not in NOINDEX_ENDPOINTS)
    return PageAddresses(
        canonical=canonical,
        alternates=alternates,
        og_locale=OG_LOCALES.get(lang, lang),
        og_locale_alternates=[OG_LOCALES.get(code, code) for code in languages()
                              if code != lang],
        indexable=indexable,
    )


def service_structured_data(service: Service) -> dict:
    """Return a service as schema.org GovernmentService data (JSON-LD) for search engines."""
    lang = current_lang()
    province = current_app.config["PORTAL_PROVINCE_NAME"]
    data: dict = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "name": localized(service, "name").text,
        "url": absolute_url_for("public.service", code=service.code, lang=lang),
        "inLanguage": lang,
        "provider": {
            "@type": "GovernmentOrganization",
            "name": localized(service.department, "name").text,
            "url": absolute_url_for("public.department", code=service.department.code,
                                    lang=lang),
        },
        "areaServed": {"@type": "AdministrativeArea", "name": province},
    }
    if service.online_url:
        data["availableChannel"] = {"@type": "ServiceChannel", "serviceUrl": service.online_url}
    return data


def absolute_static_url(filename: str) -> str:
    """Return the absolute, fingerprinted address of a static file (for link previews)."""
    return absolute_path(current_app.jinja_env.globals["static_url"](filename))


def init_app(app: Flask) -> None:
    """Make the page addresses available to the layout's head."""
    app.jinja_env.globals.update(page_addresses=page_addresses,
                                 absolute_static_url=absolute_static_url,
                                 service_structured_data=service_structured_data)
