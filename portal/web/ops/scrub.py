"""Free text made fit for logs and error reports: no tracking code, e-mail, phone or NIK.

The portal's own log lines are built from safe fields; this is the net under everything else
that reaches a log or an error report (a library's message, an exception's text, a URL): the
access log's masking of tracking codes in paths, a bare tracking code in any spelling of its
groups, and the personal data of docs/definitions.md ("Privacy"), each replaced by a marker.
"""

from __future__ import annotations

import re

from portal.domain.personal_data import deidentify
from portal.domain.tracking_codes import (
    TRACKING_GROUP,
    TRACKING_INPUT_SYMBOLS,
    TRACKING_LENGTH,
)
from portal.web.access_log import MASK, mask_tracking_codes

# Every character a code may be typed with (each member of a confusable set, in either case):
# a code read over the phone as 5PP9 for SPP9 is masked as well.
_SYMBOL = f"[{TRACKING_INPUT_SYMBOLS}]"
_GROUPS = TRACKING_LENGTH // TRACKING_GROUP
# A code alone in a text: its groups of four, each joined by at most one separator.
_BARE_CODE = re.compile(
    r"(?<![0-9A-Za-z])"
    + r"[\s\-_.]?".join([f"{_SYMBOL}{{{TRACKING_GROUP}}}"] * _GROUPS)
    + r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")


def scrub_text(text: str) -> str:
    """Return text with tracking codes masked and personal data replaced by a marker."""
    if not text:
        return text
    masked = _WORD.sub(lambda word: mask_tracking_codes(word.group()), text)
    # Personal data first: a phone number in groups of four is personal data, not a code.
    return _BARE_CODE.sub(_mask_code, deidentify(masked))


def _mask_code(match: re.Match[str]) -> str:
    """Mask a candidate code that mixes letters and digits, as codes do.

    Now that every letter and digit may be typed in a code, twelve letters alone are more
    likely a word ("RuntimeError", "site-packages") than one of the rare codes without a
    digit; those stay masked wherever the portal's own paths and parameters carry them.
    """
    text = match.group()
    if any(ch.isdigit() for ch in text) and any(ch.isalpha() for ch in text):
        return MASK
    return text
