"""Structured logs: one JSON line per request and per job run, and a request id throughout.

Every request gets an id: the ``X-Request-ID`` the reverse proxy sent (nginx's
``$request_id``), when it looks like one, or a new random one. It is returned in the response's
``X-Request-ID`` header, and every log line written while the request runs (an error's
traceback included) carries it, so that a citizen's "something went wrong" with the id from
the error page's response leads to the right lines.

:class:`RequestObserver` (WSGI middleware around the whole app, static files included) hands
each finished request to its observers: the request log line and the request metrics. A
request counts as finished when its last byte has been handed to the server, so a streamed
CSV download is measured whole.

The request line holds the time, the request id, the method, the path with tracking codes
masked (as the access log masks them; never the query string, which may hold a search or a
code), the Flask endpoint, the status, the duration and the worker's process id: never a
client address, a cookie or anything the citizen typed. Lines from other loggers are
scrubbed (:func:`portal.web.ops.scrub.scrub_text`) before they are written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from flask import request
from flask.logging import default_handler

from portal.web.access_log import mask_tracking_codes
from portal.web.ops.scrub import scrub_text

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming request id may be (nginx's $request_id is 32 hex digits, a UUID has
# dashes); anything else is replaced, so that no client can write arbitrary text into logs.
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)
request_log = logging.getLogger("portal.requests")
# Methods named in metrics as they are; any other counts as "other" (no unbounded labels).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The endpoint of a request Flask never saw (WhiteNoise served a static file) or could not
# route (a 404 on an unknown path).
STATIC_ENDPOINT = "static"
UNMATCHED_ENDPOINT = "unmatched"
_ENDPOINT_KEY = "portal.endpoint"


def current_request_id() -> str | None:
    """Return the id of the request being handled in this thread, if any."""
    return _request_id.get()


def _request_id_for(incoming: str | None) -> str:
    """Return the proxy's request id when it looks like one, else a new random id."""
    if incoming and _ACCEPTED_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


@dataclass(frozen=True)
class FinishedRequest:
    """What the log and the metrics learn about a request once its response is sent."""

    request_id: str
    method: str
    path: str
    endpoint: str
    status: int
    duration: float


def remember_endpoint(sender: Any, **extra: Any) -> None:
    """Note the endpoint Flask routed the request to (connected to ``request_started``)."""
    request.environ[_ENDPOINT_KEY] = request.endpoint or UNMATCHED_ENDPOINT


class _ObservedResponse:
    """The response iterable, telling the observers once it is sent whole or closed."""

    def __init__(self, iterable: Iterable[bytes], finish: Callable[[], None]) -> None:
        self._iterable = iterable
        self._finish = finish
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._iterable
        self._done()

    def close(self) -> None:
        """Close the wrapped iterable, then report the request (once)."""
        try:
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        finally:
            self._done()

    def _done(self) -> None:
        if not self._finished:
            self._finished = True
            self._finish()


class RequestObserver:
    """WSGI middleware: give each request an id, and report it to observers once sent."""

    def __init__(self, wsgi_app: Callable, observers: Sequence[Callable[[FinishedRequest], None]]):
        self.wsgi_app = wsgi_app
        self.observers = list(observers)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Handle one request."""
        request_id = _request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        _request_id.set(request_id)
        started = time.perf_counter()
        status: list[int] = [500]

        def start_with_id(status_line: str, headers: list, exc_info: Any = None) -> Callable:
            status[0] = int(status_line.split(" ", 1)[0])
            headers = [(name, value) for name, value in headers
                       if name.lower() != REQUEST_ID_HEADER.lower()]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, exc_info)

        def finish() -> None:
            finished = FinishedRequest(
                request_id=request_id,
                method=environ.get("REQUEST_METHOD", ""),
                path=environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                endpoint=environ.get(_ENDPOINT_KEY, STATIC_ENDPOINT),
                status=status[0],
                duration=time.perf_counter() - started,
            )
            try:
                for observer in self.observers:
                    observer(finished)
            finally:
                _request_id.set(None)

        try:
            iterable = self.wsgi_app(environ, start_with_id)
        except BaseException:
            finish()
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(iterable, file_wrapper):
            # A file the server sends with sendfile() if it stays unwrapped: reported now,
            # its duration without the sending.
            finish()
            return iterable
        return _ObservedResponse(iterable, finish)


def log_request(finished: FinishedRequest) -> None:
    """Write the request's JSON log line."""
    if not request_log.isEnabledFor(logging.INFO):
        return
    fields = {
        "event": "request",
        "request_id": finished.request_id,
        "method": finished.method if finished.method in KNOWN_METHODS else "other",
        "path": mask_tracking_codes(finished.path),
        "endpoint": finished.endpoint,
        "status": finished.status,
        "duration_ms": round(finished.duration * 1000, 1),
        "pid": os.getpid(),
    }
    request_log.info(json.dumps(fields), extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """Format every record as one JSON object on one line, with the request id if any.

    Records carrying ``fields`` (request and job lines) are written as those fields; any
    other record as its message, scrubbed of tracking codes and personal data, with its
    traceback likewise.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = scrub_text(record.getMessage())
            if record.exc_info:
                line["exception"] = scrub_text(self.formatException(record.exc_info))
        request_id = current_request_id()
        if request_id:
            line.setdefault("request_id", request_id)
        line.setdefault("pid", record.process)
        return json.dumps(line)


def json_log_handler(stream: IO[str] | None = None) -> logging.Handler:
    """Return a handler writing JSON lines to stream (standard error by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def configure_logging() -> None:
    """Send every log record as a JSON line to standard error, unless logging is set up.

    Gunicorn keeps its own loggers; the application's (and its libraries': Flask-Limiter's
    warning that rate limits fell back to memory, SQLAlchemy's) otherwise have no handler
    and are lost, except warnings printed without a format.
    """
    root = logging.getLogger()
    if root.handlers:
        return  # configured already (a --log-config, a test run): leave it as it is
    root.addHandler(json_log_handler())
    portal_logger = logging.getLogger("portal")
    # Flask adds its plain handler to the app's logger when none is found; ours is it.
    portal_logger.removeHandler(default_handler)
    portal_logger.setLevel(logging.INFO)
