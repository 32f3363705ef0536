"""Personal data in free text: one rule for every place that looks for it (docs/definitions.md).

The warnings staff see before a text becomes public, the refusal of a public text naming the
reporter and the DPRD's de-identified view all ask this module, so they cannot disagree.
What counts as personal data:

- e-mail addresses;
- Indonesian phone numbers: ``+62``, ``62`` or ``0`` followed by 8 to 13 digits, with any
  spaces, dots, dashes or brackets between them (``0812.3456.7890``, ``(0536) 322-1234``,
  ``+62 812 3456 7890``, ``62-812-3456-7890``);
- NIK and KK numbers: 16 digits with the same separators (``6271.0123.4567.0001``); a number
  of 16 digits is one of these, never a phone number;
- the reporter's own name, e-mail and phone as they gave them, whatever the letter case (and
  the phone whatever its separators or the form of its country code).

A number is read from whole groups of digits: it starts and ends where the text has a space
(or the run of digits begins or ends), never inside ``1.500.000``, so the thousands of an
amount are not a phone number. Dates (``12.05.2025``, ``2026-12-01``) and amounts in rupiah
(``Rp 1.500.000``) are set aside first. A dot followed by a space ends a sentence and so a
number: ``… 0812.3456.7890. 62 orang …`` is a phone number and a count.

Pure functions, no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

REDACTED = "[…]"

# Kinds of personal data found, from the most to the least specific: where two overlap, the
# span found is their union with the more specific kind (the reporter's own data first).
REPORTER_EMAIL = "reporter_email"
REPORTER_PHONE = "reporter_phone"
REPORTER_NAME = "reporter_name"
EMAIL = "email"
ID_NUMBER = "id_number"  # NIK or KK: both are 16 digits and cannot be told apart
PHONE = "phone"
_PRIORITY = (REPORTER_EMAIL, REPORTER_PHONE, REPORTER_NAME, EMAIL, ID_NUMBER, PHONE)
REPORTER_KINDS = frozenset({REPORTER_EMAIL, REPORTER_PHONE, REPORTER_NAME})

ID_NUMBER_DIGITS = 16
# After the national prefix (0, 62 or +62), a phone number has 8 to 13 digits.
PHONE_DIGITS_AFTER_PREFIX = (8, 13)
# A reporter's phone shorter than a local landline number (7 digits) cannot be told from
# any other small number, so it is not looked for.
MIN_REPORTER_PHONE_DIGITS = 7

EMAIL_ADDRESS = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
_DIGITS = re.compile(r"\d+")
_SEPARATOR_CHARS = "-\u2010\u2011\u2012\u2013\u2014.()[]"
# A gap between two groups of digits that keeps them in one number: separators only.
_JOINING_GAP = re.compile(rf"(?:[^\S\r\n]|[{re.escape(_SEPARATOR_CHARS)}])+")
_OPENING = "([+"
_CLOSING = {")": "(", "]": "["}
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DATE = re.compile(
    rf"(?<!\d)(?:{_DAY}[./-]{_MONTH}[./-](?:19|20)\d\d|(?:19|20)\d\d-{_MONTH}-{_DAY})(?!\d)"
)
_RUPIAH = re.compile(r"(?<!\w)(?:rp|idr)\.?[^\S\r\n]*\d[\d.,]*", re.IGNORECASE)


@dataclass(frozen=True)
class PersonalDataMatch:
    """One piece of personal data in a text: its kind and where it is (``text[start:end]``)."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str
    # Whether a number may begin at this group / end after it: at the edges of a run of
    # digits, or where a space separates it from its neighbour.
    may_start: bool
    may_end: bool


def find_personal_data(
    text: str,
    reporter_name: str | None = None,
    reporter_email: str | None = None,
    reporter_phone: str | None = None,
) -> list[PersonalDataMatch]:
    """Return the personal data in a text, in order, without overlaps."""
    text = text or ""
    found = [PersonalDataMatch(EMAIL, m.start(), m.end()) for m in EMAIL_ADDRESS.finditer(text)]
    found += _reporter_text_matches(text, reporter_name, reporter_email)
    phone_key = _phone_key(_ascii_digits(reporter_phone or ""))
    if len(phone_key) < MIN_REPORTER_PHONE_DIGITS:
        phone_key = ""
    for groups in _digit_runs(text):
        found += _numbers_in_run(text, groups, phone_key)
    return _merged(found)


def deidentify(
    text: str,
    reporter_name: str | None = None,
    reporter_email: str | None = None,
    reporter_phone: str | None = None,
) -> str:
    """Return the text with each piece of personal data replaced by ``[…]``."""
    text = text or ""
    pieces: list[str] = []
    position = 0
    for match in find_personal_data(text, reporter_name, reporter_email, reporter_phone):
        pieces += [text[position:match.start], REDACTED]
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)


def mentions_reporter(
    text: str,
    reporter_name: str | None = None,
    reporter_email: str | None = None,
    reporter_phone: str | None = None,
) -> bool:
    """Tell whether a text contains the reporter's own name, e-mail or phone."""
    return any(
        match.kind in REPORTER_KINDS
        for match in find_personal_data(text, reporter_name, reporter_email, reporter_phone)
    )


# -- the reporter's name and e-mail -------------------------------------------------------------


def _folded(text: str) -> tuple[str, list[int]]:
    """Return text without letter case or accents, and each folded character's origin.

    Folding may turn one character into several (or none), so matches found in the folded
    text are mapped back to the original through the origins.
    """
    chars: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKD", char).casefold():
            if not unicodedata.combining(piece):
                chars.append(piece)
                origins.append(index)
    return "".join(chars), origins


def _reporter_text_matches(
    text: str, name: str | None, email: str | None
) -> list[PersonalDataMatch]:
    patterns: list[tuple[str, str]] = []
    words = re.findall(r"[^\W_]+", _folded(name or "")[0])
    if words:
        # The name as whole words, whatever spaces or punctuation stand between them.
        patterns.append(
            (REPORTER_NAME, r"(?<!\w)" + r"[\W_]+".join(map(re.escape, words)) + r"(?!\w)")
        )
    address = _folded((email or "").strip())[0]
    if address:
        patterns.append((REPORTER_EMAIL, r"(?<![\w.%+\-])" + re.escape(address) + r"(?![\w\-])"))
    if not patterns:
        return []
    folded, origins = _folded(text)
    found = []
    for kind, pattern in patterns:
        for match in re.finditer(pattern, folded):
            if match.end() > match.start():
                found.append(PersonalDataMatch(
                    kind, origins[match.start()], origins[match.end() - 1] + 1))
    return found


# -- numbers ------------------------------------------------------------------------------------


def _ascii_digits(text: str) -> str:
    """Return text with every decimal digit (full-width ones too) as an ASCII digit."""
    return re.sub(r"\d", lambda m: str(unicodedata.decimal(m.group())), text)


def _phone_key(digits: str) -> str:
    """Return the digits of a phone number without its national prefix (0, 62 or +62)."""
    digits = re.sub(r"\D", "", digits)
    if digits.startswith("62"):
        return digits[2:]
    if digits.startswith("0"):
        return digits[1:]
    return digits


def _digit_runs(text: str) -> list[list[_Group]]:
    """Split the text's digits into runs of groups that may form one number.

    Dates and rupiah amounts are blanked first (keeping every position), so that they
    neither match nor join a neighbouring number.
    """
    working = _ascii_digits(text)
    for pattern in (_DATE, _RUPIAH):
        working = pattern.sub(lambda m: "#" * len(m.group()), working)
    runs: list[list[tuple[int, int, str, bool]]] = []
    previous_end = None
    for match in _DIGITS.finditer(working):
        gap = working[previous_end:match.start()] if previous_end is not None else None
        joined = (
            gap is not None
            and _JOINING_GAP.fullmatch(gap) is not None
            # A dot followed by a space ends a sentence, and the number with it.
            and not ("." in gap and any(char.isspace() for char in gap))
        )
        spaced = gap is not None and any(char.isspace() for char in gap)
        if joined:
            runs[-1].append((match.start(), match.end(), match.group(), spaced))
        else:
            runs.append([(match.start(), match.end(), match.group(), True)])
        previous_end = match.end()
    result = []
    for run in runs:
        groups = []
        for index, (start, end, digits, spaced_before) in enumerate(run):
            spaced_after = index + 1 == len(run) or run[index + 1][3]
            groups.append(_Group(start, end, digits, spaced_before, spaced_after))
        result.append(groups)
    return result


def _is_phone(digits: str) -> bool:
    low, high = PHONE_DIGITS_AFTER_PREFIX
    for prefix in ("0", "62"):
        if digits.startswith(prefix) and low <= len(digits) - len(prefix) <= high:
            return True
    return False


def _numbers_in_run(text: str, groups: list[_Group], phone_key: str) -> list[PersonalDataMatch]:
    """Find the reporter's phone, NIK/KK numbers and phone numbers in one run of groups."""
    found = []
    first = 0
    while first < len(groups):
        if not groups[first].may_start:
            first += 1
            continue
        # Every way the number starting here may end, shortest first.
        endings: list[tuple[int, str]] = []
        digits = ""
        for last in range(first, len(groups)):
            digits += groups[last].digits
            if len(digits) > max(ID_NUMBER_DIGITS, len(phone_key) + 2):
                break
            if groups[last].may_end:
                endings.append((last, digits))
        choice = (
            next(((REPORTER_PHONE, last) for last, d in endings
                  if phone_key and _phone_key(d) == phone_key), None)
            or next(((ID_NUMBER, last) for last, d in endings
                     if len(d) == ID_NUMBER_DIGITS), None)
            # The longest phone number: a part left out would still give some digits away.
            or next(((PHONE, last) for last, d in reversed(endings) if _is_phone(d)), None)
        )
        if choice is None:
            first += 1
            continue
        kind, last = choice
        found.append(PersonalDataMatch(kind, *_span(text, groups[first].start, groups[last].end)))
        first = last + 1
    return found


def _span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a number's span to a sign or bracket before it and the brackets it opened."""
    while start > 0 and text[start - 1] in _OPENING:
        start -= 1
    while end < len(text) and text[end] in _CLOSING:
        opening = _CLOSING[text[end]]
        if text.count(opening, start, end) <= text.count(text[end], start, end):
            break
        end += 1
    return start, end


def _merged(found: list[PersonalDataMatch]) -> list[PersonalDataMatch]:
    """Return the matches in order, overlapping ones joined under the most specific kind."""
    result: list[PersonalDataMatch] = []
    for match in sorted(found, key=lambda m: (m.start, -m.end)):
        if result and match.start < result[-1].end:
            last = result[-1]
            kind = min(last.kind, match.kind, key=_PRIORITY.index)
            result[-1] = PersonalDataMatch(kind, last.start, max(last.end, match.end))
        else:
            result.append(match)
    return result
