"""Catalogue search words: one normalisation for stored texts and for what people type.

Search is case- and accent-insensitive and matches word prefixes: text is folded to lowercase
ASCII letters and digits (accents dropped, ``ß`` → ``ss``), every other character separates
words. Stored search text is the folded words joined by single spaces with a space in front
and behind, so that "a word starting with W" is the portable ``LIKE '% w%'`` on any database.
A hyphenated word is also kept joined (``e-KTP`` → ``e ktp ektp``), so both ``e-ktp`` and
``ektp`` find it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# At most this many words of a query are used: a pasted paragraph is not a search.
MAX_QUERY_WORDS = 8
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_HYPHENATED = re.compile(r"[a-z0-9]+(?:[-‐‑][a-z0-9]+)+")


def fold(text: str) -> str:
    """Return text lowercased, without accents, as ASCII (other characters kept as they are)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Split text into folded words (letters and digits only), in order, with repeats."""
    return [w for w in _SEPARATORS.split(fold(text)) if w]


def search_text(parts: Iterable[str]) -> str:
    """Return the stored search text of some texts: their distinct words, space-delimited."""
    seen: dict[str, None] = {}
    for part in parts:
        folded = fold(part or "")
        for word in _SEPARATORS.split(folded):
            if word:
                seen.setdefault(word, None)
        for hyphenated in _HYPHENATED.findall(folded):
            seen.setdefault(_SEPARATORS.sub("", hyphenated), None)
    return f" {' '.join(seen)} " if seen else ""


def query_words(query: str) -> list[str]:
    """Return the distinct folded words of a query (at most MAX_QUERY_WORDS), in order."""
    distinct = list(dict.fromkeys(words(query or "")))
    return distinct[:MAX_QUERY_WORDS]


def matches(stored: str, word: str) -> bool:
    """Tell whether a stored search text has a word starting with ``word``."""
    return f" {word}" in stored


def keyword_list(text: str) -> list[str]:
    """Split a comma-separated keyword column into its trimmed, non-empty keywords."""
    return [k.strip() for k in (text or "").split(",") if k.strip()]
