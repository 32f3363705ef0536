"""XML escaping as ElementTree writes it, for documents written as text (feeds, sitemap,
Open311's XML): the same bytes as ``ElementTree.tostring`` of the same tree, without building
and walking a tree of hundreds of elements."""

from __future__ import annotations

import re

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                    "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"})
# What each escapes: texts and addresses seldom hold any (translating costs more than
# searching).
_TEXT_TO_ESCAPE = re.compile("[&<>]")
_ATTRIBUTE_TO_ESCAPE = re.compile('[&<>"\r\n\t]')


def xml_text(text: str) -> str:
    """Escape an element's text as ElementTree does."""
    return text.translate(_TEXT_ESCAPES) if _TEXT_TO_ESCAPE.search(text) else text


def xml_attribute(text: str) -> str:
    """Escape a double-quoted attribute's value as ElementTree does."""
    return text.translate(_ATTRIBUTE_ESCAPES) if _ATTRIBUTE_TO_ESCAPE.search(text) else text
