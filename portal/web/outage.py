"""Outages told truthfully: the database or the attachment storage failing answers 503.

When the database cannot be reached (SQLAlchemy's OperationalError, InterfaceError or
DisconnectionError, psycopg's own connection errors, or no pooled connection freed in
time) or the attachment storage refuses a file (``StorageUnavailable``: a full disk),
nothing was stored: the session is rolled back and every answer says so, with
``Retry-After``:

- the feedback form (``POST /<lang>/feedback/new``) shows the form again, filled with what
  the citizen typed, under a message that nothing was recorded (``portal.web.feedback.unsaved``);
- other pages answer the translated 503 page, with the free text a form sent (a reply, a
  reason) given back to copy;
- ``/api/`` answers a ``service-unavailable`` problem, Open311 its own errors document.

Should the database go away after the request committed (reading the saved feedback back to
show its tracking code, say), the answers say what was sent may have been saved, and that
sending it again (the same form, the same idempotency key) does not store it twice.

The log line names the error's class only: a database error's text quotes the statement's
parameters, which may hold a citizen's text or contact details; its path is masked as in the
access log (a tracking code or a subscription token in it is a key).
"""

from __future__ import annotations

import logging

import psycopg
from flask import Flask, Response, g, has_request_context, render_template, request
from flask_babel import refresh
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.i18n import languages, preferred_lang
from portal.services.errors import StorageUnavailable
from portal.web.access_log import mask_tracking_codes
from portal.web.error_shapes import error_shape_for

log = logging.getLogger(__name__)

# The errors that mean "the database (or the file storage) is not there right now".
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection came free in time: the database is overloaded
    psycopg.OperationalError,
    psycopg.InterfaceError,
    StorageUnavailable,
)
# Seconds a client is asked to wait before trying again (the pages say "a few minutes").
RETRY_AFTER_SECONDS = 120
# The form fields of free text (a reply, a reopening reason, a staff note) the generic 503 page
# gives back, so that nothing typed is lost when the browser does not keep it.
TYPED_TEXT_FIELDS = ("body", "reason", "text")
# Set in a request's WSGI environment when it commits: a failure after that cannot say
# "nothing was recorded", only that it may have been.
_COMMITTED = "portal.committed"


def _roll_back() -> None:
    """Forget the failed transaction; a connection that is gone may fail even at that."""
    try:
        db.session.rollback()
    except Exception as error:  # the connection is dead: the pool discards it
        # The class only: a chained error's text may quote the failed statement's parameters.
        log.debug("rollback after an outage failed: %s", _cause(error))


def _cause(error: BaseException) -> str:
    """Name the error and the driver's error under it, without their texts."""
    original = getattr(error, "orig", None)
    if original is not None:
        return f"{type(error).__name__} ({type(original).__module__}.{type(original).__name__})"
    return type(error).__name__


def _page_language() -> None:
    """Answer pages in the language of the URL prefix, else the reader's preference."""
    first = request.path.strip("/").split("/", 1)[0]
    g.lang = first if first in languages() else preferred_lang()
    refresh()


def _remember_commit(session: Session) -> None:
    """Note that the current request committed something (the outage may come after it)."""
    if has_request_context():
        request.environ[_COMMITTED] = True


def _committed() -> bool:
    """Tell whether this request sent something and committed it before it failed."""
    return request.method not in ("GET", "HEAD") and bool(request.environ.get(_COMMITTED))


def _typed_texts() -> list[str]:
    """Return the free texts a form sent (a reply, a reason), to give back on the 503 page.

    Only the fields that hold prose: never a password, a token or a hidden value.
    """
    if request.method != "POST":
        return []
    return [value for name in TYPED_TEXT_FIELDS for value in request.form.getlist(name)
            if value.strip()][:5]


def outage_answer(error: BaseException) -> Response | tuple:
    """Answer a request that failed because the database or the file storage is down."""
    _roll_back()
    committed = _committed()
    # The path masked as in the access log: a tracking code or a subscription token is a key.
    log.warning("outage: %s %s answered 503%s: %s", request.method,
                mask_tracking_codes(request.path), " after a commit" if committed else "",
                _cause(error))
    # No cache may keep an outage answer for later readers.
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    shape = error_shape_for(request.path)
    if shape is not None:
        response = shape.outage(committed)
        response.headers.update(retry)
        return response
    _page_language()
    if request.method == "POST" and request.endpoint == "feedback.new":
        # Imported here: the feedback pages import this package's blueprints' services.
        from portal.web.feedback.unsaved import feedback_unsaved

        body = feedback_unsaved(database_down=not isinstance(error, StorageUnavailable),
                                maybe_saved=committed)
    else:
        body = render_template("errors/503.html", sent=request.method == "POST",
                               maybe_saved=committed, typed=_typed_texts())
    return body, 503, retry


def init_outage(app: Flask) -> None:
    """Answer every outage error with the truthful 503 of its kind of client."""
    for error_class in OUTAGE_ERRORS:
        app.register_error_handler(error_class, outage_answer)
    # Every session of every app: the listener is global, so it is added once.
    if not event.contains(Session, "after_commit", _remember_commit):
        event.listen(Session, "after_commit", _remember_commit)
