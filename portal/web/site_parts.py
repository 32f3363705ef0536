"""The parts of the layout every page repeats, rendered once per process and language.

``base.html`` shows the same brand, main navigation, demo notice and footer on every page;
they depend only on the language, three settings, the URL map and (the footer) whether a
staff member is logged in — all fixed for the life of a process — so they are rendered from
``macros/site_parts.html`` once per language (and settings) and kept. Everything that varies
by page (the title, the language links, the staff bar) stays in ``base.html``.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app
from markupsafe import Markup

from portal.i18n import current_lang

TEMPLATE = "macros/site_parts.html"
# The settings the parts show: part of each part's key, so a changed setting (a test, an
# app factory called again) never shows an old text.
SETTINGS_SHOWN = ("PORTAL_PROVINCE_NAME", "PORTAL_DATA_LICENCE_URL", "PORTAL_DATA_LICENCE_NAME")
_lock = threading.Lock()


def site_part(name: str, *args: object) -> Markup:
    """Return the layout part ``name`` (a macro of site_parts.html) in the page's language."""
    parts: dict[tuple, Markup] = current_app.extensions["portal_site_parts"]
    config = current_app.config
    key = (current_lang(), name, args, *(config[setting] for setting in SETTINGS_SHOWN))
    part = parts.get(key)
    if part is None:
        macro = getattr(current_app.jinja_env.get_template(TEMPLATE).module, name)
        part = Markup(macro(*args))
        with _lock:
            parts[key] = part
    return part


def init_app(app: Flask) -> None:
    """Give templates ``site_part`` and the app its store of rendered parts."""
    app.extensions["portal_site_parts"] = {}
    app.jinja_env.globals["site_part"] = site_part
