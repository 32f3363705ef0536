"""Gunicorn access log without personal data: tracking codes are masked wherever they appear.

A tracking code opens a citizen's feedback, so the log must not keep one. The portal accepts a
code in many spellings (``W4Q3-ZQVA-JHX5``, ``w4q3zqvajhx5``, ``W4Q3 ZQVA JHX5``,
``W4Q3.ZQVA.JHX5``, ``W4Q3_ZQVA_JHX5``, full-width characters, percent-encoded or not), so the
log does not try to recognise codes: after ``/feedback/`` and ``/track``, every path segment
is masked unless it is one of the portal's own words or numbers, and so is the value of every
``code`` query parameter; after Open311's ``/open311/v2/requests/``, every id but a public one
(``P12.json``) is masked. Every text atom of a log line is masked, not only the path of the
configured format: the request line, the raw and decoded path, the query string, headers
such as Referer, the Location of redirects and the WSGI environment can all hold a code.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

from gunicorn.glogging import Logger

MASK = "[code]"
# What follows /feedback/ in the portal's own URLs when it is no code: pages of the citizen's
# side, then what follows a code (actions on one's feedback).
_FEEDBACK_PAGES = frozenset({"new", "published"})
_AFTER_CODE = frozenset({"reply", "reopen"})
# Staff URLs carry internal ids and action names there (/staff/feedback/12/transfer); an
# action name is lower-case letters and underscores, which a code in it would not be alone.
_STAFF_WORD = re.compile(r"^(?:[0-9]+|[a-z_]+)$")
_OPEN311_PUBLIC_ID = re.compile(r"^p[0-9]+\.(?:json|xml)$")
_SCHEME_AND_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
# Atoms that hold a bare query string (every other text atom is read as a path or URL).
_QUERY_ATOMS = frozenset({"q", "{query_string}e"})


def _word(segment: str) -> str:
    """Return a path segment as the router would compare it (decoded, lower case)."""
    return unquote(segment).strip().lower()


def _mask_after_feedback(segments: list[str], staff: bool) -> list[str]:
    """Mask the segments that follow /feedback/, keeping the portal's own words."""
    masked = []
    previous = ""
    for position, segment in enumerate(segments):
        word = _word(segment)
        if not segment:
            keep = True
        elif staff:
            keep = bool(_STAFF_WORD.match(word))
        elif position == 0:
            keep = word in _FEEDBACK_PAGES
        elif position == 1 and previous == "published":
            keep = word.isdigit()
        elif position == 1 and previous not in _FEEDBACK_PAGES:
            keep = word in _AFTER_CODE
        else:
            keep = False
        masked.append(segment if keep else MASK)
        previous = word
    return masked


def mask_path(path: str) -> str:
    """Mask every segment that may be a tracking code in a path (without its query)."""
    segments = path.split("/")
    words = [_word(segment) for segment in segments]
    for index, word in enumerate(words):
        if word == "track" or word == "unsubscribe" or (
                word == "confirm" and index and words[index - 1] == "subscriptions"):
            # A tracking code, or a subscription's confirmation or unsubscribe token.
            return "/".join(segments[: index + 1] + [MASK if s else s
                                                     for s in segments[index + 1:]])
        if word == "feedback":
            rest = _mask_after_feedback(segments[index + 1:], staff="staff" in words[:index])
            return "/".join(segments[: index + 1] + rest)
        if word == "requests" and index >= 2 and words[index - 2:index] == ["open311", "v2"]:
            # Open311's requests/ID.json: an ID that is no public id (P12) may be a code.
            return "/".join(segments[: index + 1] + [
                s if not s or _OPEN311_PUBLIC_ID.match(_word(s)) else MASK
                for s in segments[index + 1:]])
    return path


def mask_query(query: str) -> str:
    """Mask the value of every ``code`` parameter of a query string."""
    pairs = re.split(r"([&;])", query)
    for index in range(0, len(pairs), 2):
        name, equals, _value = pairs[index].partition("=")
        if equals and unquote_plus(name).strip().lower() == "code":
            pairs[index] = f"{name}={MASK}"
    return "".join(pairs)


def mask_tracking_codes(target: str) -> str:
    """Mask tracking codes in a path, a path with its query string, or a whole URL."""
    host = _SCHEME_AND_HOST.match(target or "")
    start = host.end() if host else 0
    path, mark, query = target[start:].partition("?")
    return target[:start] + mask_path(path) + mark + (mask_query(query) if mark else "")


def mask_request_line(line: str) -> str:
    """Mask tracking codes in a request line ("GET /id/track?code=... HTTP/1.1")."""
    method, space, rest = line.partition(" ")
    target, space_before_protocol, protocol = rest.rpartition(" ")
    if not space or not space_before_protocol:
        return mask_tracking_codes(line)
    return f"{method} {mask_tracking_codes(target)} {protocol}"


class PrivacyLogger(Logger):
    """Gunicorn's logger, with tracking codes masked in every atom of the access log."""

    def atoms(self, resp, req, environ, request_time):
        """Return the access-log atoms with tracking codes masked."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if not isinstance(value, str):
                continue
            if key == "r":
                atoms[key] = mask_request_line(value)
            elif key in _QUERY_ATOMS:
                atoms[key] = mask_query(value)
            else:
                # Text without /feedback/, /track or "?code=" (a date, a user agent) is
                # returned as it is.
                atoms[key] = mask_tracking_codes(value)
        return atoms
