"""Tracking codes: read over the phone and copied by hand (docs/definitions.md, "Tracking codes").

The alphabet holds one character of each easily confused set (0/O/D, 1/I/L, 2/Z, 5/S, 8/B,
U/V): 0, 1, 2, 5, 8 and V, with the other digits and the letters that belong to no such set.
A code typed with any member of a set, in either case, with or without separators, has one
*lookup key*: every character mapped to its set's member of the alphabet. Codes made before
(whose alphabet held both 2 and Z, 5 and S, 8 and B) keep their stored spelling and are found
by the same key.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

# 10 digits and the 18 letters that belong to no confusable set: 28 symbols, 12 of them give
# 12 × log2(28) ≈ 57.7 bits of randomness from `secrets`.
TRACKING_ALPHABET = "0123456789ACEFGHJKMNPQRTVWXY"
TRACKING_LENGTH = 12
TRACKING_GROUP = 4
# Every other member of a confusable set, mapped to the set's member in the alphabet.
CONFUSABLE = {"O": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "U": "V"}
# What a citizen may type in a code (before mapping): the alphabet and every confusable.
TRACKING_INPUT_SYMBOLS = TRACKING_ALPHABET + "".join(CONFUSABLE)
_SEPARATORS = re.compile(r"[\s\-_.·/]+")
_TO_KEY = str.maketrans(CONFUSABLE)


def tracking_code_new() -> str:
    """Return a new random tracking code in canonical form (12 characters, no dashes)."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def tracking_code_display(code: str) -> str:
    """Group a code in fours for reading aloud: K7QM-3TXV-9PHD."""
    return "-".join(code[i : i + TRACKING_GROUP] for i in range(0, len(code), TRACKING_GROUP))


def tracking_code_compact(text: str) -> str | None:
    """Return what was typed as 12 upper-case characters, or None if it cannot be a code.

    Case, spaces, dashes and dots do not matter, nor do full-width characters from phone
    keyboards.
    """
    folded = unicodedata.normalize("NFKC", text or "").upper()
    compact = _SEPARATORS.sub("", folded)
    if len(compact) != TRACKING_LENGTH or any(ch not in TRACKING_INPUT_SYMBOLS
                                              for ch in compact):
        return None
    return compact


def tracking_key(code: str) -> str:
    """Return the lookup key of a code in compact form: each confusable mapped to its set's one."""
    return code.upper().translate(_TO_KEY)


def tracking_code_normalise(text: str) -> str | None:
    """Return the lookup key of what a citizen typed, or None if it cannot be a code."""
    compact = tracking_code_compact(text)
    return tracking_key(compact) if compact is not None else None
