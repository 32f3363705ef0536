"""Free text made fit for logs and error reports: no tracking code, e-mail, phone or NIK.

The portal's own log lines are built from safe fields; this is the net under everything else
that reaches a log or an error report (a library's message, an exception's text, a URL): the
access log's masking of tracking codes in paths, a bare tracking code in any spelling of its
groups, and the personal data of docs/definitions.md ("Privacy"), each replaced by a marker.
"""

from __future__ import annotations

import re

from portal.domain.personal_data import deidentify
from portal.services.feedback.citizen import TRACKING_ALPHABET, TRACKING_GROUP, TRACKING_LENGTH
from portal.web.access_log import MASK, mask_tracking_codes

_SYMBOL = f"[{TRACKING_ALPHABET}]"
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
    masked = _BARE_CODE.sub(MASK, masked)
    return deidentify(masked)
