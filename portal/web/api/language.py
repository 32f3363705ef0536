"""The language of an API answer: ``?lang=id|en``, else Accept-Language, else the default."""

from __future__ import annotations

from flask import current_app, request

from portal.i18n import languages


def api_lang() -> str:
    """Return the language asked for: a valid ?lang, else Accept-Language, else the default."""
    lang = request.args.get("lang", "")
    if lang in languages():
        return lang
    return request.accept_languages.best_match(languages()) or (
        current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def unknown_lang() -> str | None:
    """Return the ?lang value when one is given that the portal does not speak, else None."""
    if "lang" not in request.args:
        return None
    lang = request.args["lang"]
    return None if lang in languages() else lang
