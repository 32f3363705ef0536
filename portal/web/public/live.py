"""Public pages that stay current cheaply: conditional responses, a page cache, freshness.

- Every public page answers with an ETag (a digest of its body), Last-Modified and
  ``Cache-Control: public, max-age=60``, so a browser's repeat view is a 304.
- Rendered pages are kept in a small in-process LRU keyed by (language, path and query),
  valid while the public data version (one cheap query, see public_data_version) is the
  same, for at most PORTAL_PAGE_CACHE_SECONDS (60 s; 0 switches the cache off, the default
  under TESTING), and only while every "updated N minutes ago" on it would still read the
  same. Requests carrying a session cookie are never served from or stored in it.
- ``/<lang>/live`` answers the data version with an ETag: the refresh script polls it with
  If-None-Match and gets an empty 304 until something changes. No worker is held per reader.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from flask import current_app, g, has_request_context, jsonify, request, session
from markupsafe import Markup

from portal.domain.calendar import UTC, utc_now
from portal.i18n import LANG_COOKIE, current_lang
from portal.services.catalogue.public_figures import PublicDataVersion, public_data_version
from portal.services.demo.load import demo_data_loaded
from portal.web.formatting import age_key, updated_ago_text

# Browsers and proxies may reuse a public page this long without asking again (seconds).
MAX_AGE = 60
DEFAULT_CACHE_SECONDS = 60
CACHE_ENTRIES = 128
VERSION_SECONDS = 1.0
_NO_VERSION = PublicDataVersion("", False)  # before the first reading


@dataclass(frozen=True)
class KeptEntry:
    """A rendered page (or another kept body) and what it depends on."""

    body: bytes
    etag: str
    last_modified: datetime
    created: float
    version: str
    anchors: tuple[tuple[datetime, tuple[str, int]], ...]

    def still_valid(self, version: str, ttl: float) -> bool:
        """Tell whether the page may be served again as it is."""
        if self.version != version or time.monotonic() - self.created > ttl:
            return False
        now = utc_now()
        return all(age_key(at, now) == key for at, key in self.anchors)


class PageCache:
    """A small thread-safe LRU of rendered pages, and the last data version read."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, KeptEntry] = OrderedDict()
        self._lock = threading.Lock()
        # (monotonic time, version): replaced whole, so threads never see half of it.
        self.version_read: tuple[float, PublicDataVersion] = (float("-inf"), _NO_VERSION)
        # Other versions (see cached_view), by the name of the function that reads each.
        self.versions_read: dict[str, tuple[float, str]] = {}

    def get(self, key: tuple) -> KeptEntry | None:
        """Return an entry (most recently used now), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: KeptEntry) -> None:
        """Store an entry, dropping the least recently used beyond the size."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every page and the data version."""
        with self._lock:
            self._entries.clear()
            self.version_read = (float("-inf"), _NO_VERSION)
            self.versions_read = {}


def page_cache() -> PageCache:
    """Return the app's page cache (one per process)."""
    cache = current_app.extensions.get("portal_page_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("portal_page_cache", PageCache())
    return cache


def _cache_seconds() -> float:
    """Return how long a rendered page may be served from the cache (config, seconds)."""
    return float(current_app.config.get("PORTAL_PAGE_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


def _has_session() -> bool:
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def data_version() -> str:
    """Return the public data version, read once per request and at most once a second.

    While the page cache is on, busy workers share one reading per second (it scans the
    status table: about 0.1 ms for 1,000 services on SQLite); a page may then lag new data
    by a second more. With the cache off every page with a live script reads it; the answers
    of cached_view (which show no version) do not read it when nothing may be kept.
    """
    return _version_read().digest


def _version_read() -> PublicDataVersion:
    """Return the version this request read (see data_version), reading it if none yet."""
    version = getattr(request, "portal_data_version", None)
    if version is None:
        cache = page_cache()
        read_at, version = cache.version_read
        if not (_cache_seconds() and time.monotonic() - read_at < VERSION_SECONDS):
            version = public_data_version()
            cache.version_read = (time.monotonic(), version)
        request.portal_data_version = version
    return version


def demo_data_shown() -> bool:
    """Tell whether demo data is loaded, as every page header says.

    A request that read the public data version (every page with a live script) has the
    answer already: the same statement reads the flag. Any other asks the database.
    """
    version = getattr(request, "portal_data_version", None) if has_request_context() else None
    return version.demo_data if version is not None else demo_data_loaded()


def updated_ago(at: datetime | None) -> Markup:
    """Render "Updated N minutes ago" as a <time> the refresh script keeps true.

    The page cache notes each such time, so that a cached page whose sentence would now
    read differently is rendered again.
    """
    if at is None:
        return Markup("")
    at = at.astimezone(UTC)
    anchors = g.setdefault("age_anchors", [])
    anchors.append((at, age_key(at, utc_now())))
    return Markup('<time class="updated" datetime="{}" data-ago>{}</time>').format(
        at.isoformat(timespec="seconds").replace("+00:00", "Z"), updated_ago_text(at)
    )


def public_page(view: Callable[..., str]) -> Callable[..., Any]:
    """Serve a view's HTML conditionally (ETag, Last-Modified) and from the page cache."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Read first, kept or not: most of these pages show it (their live script), and the
        # demo notice in every header reuses it (demo_data_shown).
        version = data_version()
        personal = _has_session()
        ttl = 0.0 if personal else _cache_seconds()
        key = (current_lang(), request.full_path)
        cache = page_cache()
        cached = cache.get(key) if ttl else None
        entry = cached if cached is not None and cached.still_valid(version, ttl) else None
        if entry is None:
            g.age_anchors = []
            body = view(*args, **kwargs).encode()
            etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20]
            modified = utc_now().replace(microsecond=0)
            if cached is not None and cached.etag == etag:
                modified = cached.last_modified  # same bytes: not modified since then
            entry = KeptEntry(body, etag, modified, time.monotonic(), version,
                           tuple(g.age_anchors))
            if ttl:
                cache.put(key, entry)
        response = current_app.response_class(entry.body, mimetype="text/html")
        response.set_etag(entry.etag)
        response.last_modified = entry.last_modified
        if personal:
            response.cache_control.private = True
            response.cache_control.no_cache = True
        else:
            # A first visit also sets the language cookie: no shared cache should keep that.
            shared = request.cookies.get(LANG_COOKIE) == current_lang()
            response.cache_control.public = shared
            response.cache_control.private = not shared
            response.cache_control.max_age = MAX_AGE
        return response.make_conditional(request)

    return wrapper


# Where a kept form page had a visitor's token: a NUL never occurs in rendered HTML.
_HOLE = "\x00{}\x00"


def _session_is_only_csrf() -> bool:
    """Tell whether the visitor's session holds nothing a page shows: no session at all, or
    only the CSRF secret a form page gave it (a staff login or a flashed message would)."""
    # The cookie is read (and its signature checked) only for a visitor who sent one.
    return not _has_session() or set(session.keys()) <= {"csrf_token"}


def form_page(render: Callable[[dict[str, str]], str],
              tokens: dict[str, Callable[[], str]] | None = None, csrf: bool = True) -> str:
    """Return a form page's HTML, kept per language, address and data version without the
    visitor's tokens.

    A form page is the same for every visitor but for its tokens: the CSRF token (Flask-WTF,
    signed for the visitor's session) and, on some forms, a one-time token made per visit
    (``tokens``: name -> how to make one; ``csrf=False`` for a page whose forms are sent by
    GET). ``render(values)`` renders the page with the tokens' values. The page is kept with
    each value cut out, and each visit gets its own written in their place: a kept form
    costs a text substitution instead of its render (the feedback form's select of every
    service: 26 ms at 1,000 services). Kept only for a visitor whose session holds nothing
    else (see :func:`_session_is_only_csrf`); with the page cache off, rendered every time.
    """
    from flask_wtf.csrf import generate_csrf

    values = {name: make() for name, make in (tokens or {}).items()}
    if csrf:
        values["csrf"] = generate_csrf()
    # A value is cut out wherever it occurs: only long random ones may be (never "" or "1").
    keep = all(len(value) >= 16 for value in values.values())
    ttl = _cache_seconds() if keep and _session_is_only_csrf() else 0.0
    if not ttl:
        return render(values)
    version = data_version()
    key = ("form", current_lang(), request.full_path)
    cache = page_cache()
    cached = cache.get(key)
    if cached is not None and cached.still_valid(version, ttl):
        html = cached.body.decode()
        for name, value in values.items():
            html = html.replace(_HOLE.format(name), value)
        return html
    g.age_anchors = []
    html = render(values)
    kept = html
    for name, value in values.items():
        kept = kept.replace(value, _HOLE.format(name))
    cache.put(key, KeptEntry(kept.encode(), "", utc_now(), time.monotonic(), version,
                          tuple(g.age_anchors)))
    return html


@dataclass(frozen=True)
class _Answer(KeptEntry):
    """A whole answer of a view (any type: a page, JSON, a download) and its status."""

    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


# The headers of a view's answer the cache keeps (a download's file name).
_KEPT_HEADERS = frozenset({"content-disposition"})


def _version_of(read: Callable[[], str]) -> str:
    """Return read()'s version, once per request and (cache on) once a second per process."""
    name = f"{read.__module__}.{read.__qualname__}"
    done = getattr(request, "portal_versions", None)
    if done is None:
        done = request.portal_versions = {}
    if name not in done:
        cache = page_cache()
        read_at, version = cache.versions_read.get(name, (float("-inf"), ""))
        if not (_cache_seconds() and time.monotonic() - read_at < VERSION_SECONDS):
            version = read()
            cache.versions_read[name] = (time.monotonic(), version)
        done[name] = version
    return done[name]


def cached_view(version: Callable[[], str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve a public view's whole answer conditionally and from the page cache.

    Like public_page, for views whose figures depend on more than the public data version
    and that answer any type (HTML, JSON, CSV, a workbook, a PDF) or status: the entry is
    keyed by language, path and query string, and valid while both the public data version
    and ``version()`` are unchanged (and the usual time-to-live and "updated ago" rules).
    Only successful answers are kept; requests with a session cookie are never cached.
    """
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            personal = _has_session()
            ttl = 0.0 if personal else _cache_seconds()
            # The versions only tell whether a kept answer is still good (none of these
            # views shows them): not read when nothing may be kept.
            full_version = f"{data_version()}-{_version_of(version)}" if ttl else ""
            key = ("view", current_lang(), request.full_path)
            cache = page_cache()
            cached = cache.get(key) if ttl else None
            entry = cached if (isinstance(cached, _Answer)
                               and cached.still_valid(full_version, ttl)) else None
            if entry is None:
                g.age_anchors = []
                answer = current_app.make_response(view(*args, **kwargs))
                if answer.direct_passthrough or answer.is_streamed:
                    return answer
                body = answer.get_data()
                etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20]
                modified = utc_now().replace(microsecond=0)
                if isinstance(cached, _Answer) and cached.etag == etag:
                    modified = cached.last_modified
                entry = _Answer(
                    body, etag, modified, time.monotonic(), full_version,
                    tuple(g.age_anchors), answer.status_code, answer.content_type or "",
                    tuple((k, v) for k, v in answer.headers.items()
                          if k.lower() in _KEPT_HEADERS))
                if ttl and answer.status_code == 200:
                    cache.put(key, entry)
            response = current_app.response_class(
                entry.body, status=entry.status, content_type=entry.content_type)
            for name, value in entry.headers:
                response.headers[name] = value
            response.set_etag(f"{current_lang()}-{entry.etag}")
            response.last_modified = entry.last_modified
            # The API's language may come from Accept-Language: one body per language.
            response.vary.add("Accept-Language")
            if personal:
                response.cache_control.private = True
                response.cache_control.no_cache = True
            else:
                shared = request.cookies.get(LANG_COOKIE) == current_lang()
                response.cache_control.public = shared
                response.cache_control.private = not shared
                response.cache_control.max_age = MAX_AGE
            return response.make_conditional(request) if entry.status == 200 else response

        return wrapper

    return decorate


def _kept(kind: str, build: Callable[[], tuple[bytes, datetime]],
          version_of: Callable[[], str] | None = None) -> KeptEntry:
    """Return the entry of build()'s (body, last-modified time), kept in the page cache.

    Kept per kind, language, path and query string (the language may come from ?lang or
    Accept-Language: each is kept apart) while the public data version (and
    ``version_of()``'s, when given: read as cached_view reads it) is unchanged, for at most
    the cache's time-to-live.
    """
    ttl = _cache_seconds()
    version = data_version() if ttl else ""  # read only when an entry may be kept
    if ttl and version_of is not None:
        version = f"{version}-{_version_of(version_of)}"
    key = (kind, current_lang(), request.full_path)
    cache = page_cache()
    entry = cache.get(key) if ttl else None
    if entry is None or not entry.still_valid(version, ttl):
        body, modified = build()
        etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20]
        entry = KeptEntry(body, etag, modified, time.monotonic(), version, ())
        if ttl:
            cache.put(key, entry)
    return entry


class JsonText(str):
    """JSON text written as :func:`cached_json` writes data (compact, UTF-8 as it is): served
    as it is, for an answer that writes parts of it faster than serialising a whole dict."""


def cached_json(build: Callable[[], object]) -> Any:
    """Serve the JSON that build() returns, conditionally and from the page cache, so a busy
    API list is serialised once per data change, not per request. build() may return the
    text already written (:class:`JsonText`)."""
    def written() -> tuple[bytes, datetime]:
        data = build()
        text = data if isinstance(data, JsonText) else json.dumps(
            data, ensure_ascii=False, separators=(",", ":"))
        return text.encode(), utc_now().replace(microsecond=0)

    entry = _kept("json", written)
    response = current_app.response_class(entry.body, mimetype="application/json")
    response.set_etag(f"{current_lang()}-{entry.etag}")
    response.vary.add("Accept-Language")
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response.make_conditional(request)


def cached_body(build: Callable[[], tuple[bytes, datetime]],
                version_of: Callable[[], str] | None = None) -> KeptEntry:
    """Return the kept entry of the body and last-modified time build() returns, kept in the
    page cache (while ``version_of()`` holds too, when given: see :func:`_kept`).

    For answers that set their own headers: the entry's ``body``, its ``etag`` (a digest of
    the body, for a strong ETag: worked out once per kept body, never per request) and its
    ``last_modified`` (build()'s time; the Atom feeds' is their newest entry's).
    """
    return _kept("body", build, version_of)


def live_version_response() -> Any:
    """Answer the data version with its ETag; 304 (empty) when the client has it."""
    version = data_version()
    response = jsonify(version=version)
    response.set_etag(version)
    response.cache_control.no_cache = True
    return response.make_conditional(request)


def version_etag() -> str:
    """Return the ETag header value of the live endpoint, as the refresh script compares it."""
    return f'"{data_version()}"'
