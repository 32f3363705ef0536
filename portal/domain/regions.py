"""The regencies and the city of Kalimantan Tengah and their official Kemendagri codes.

The portal keeps its own readable codes (``palangka-raya``); data and APIs publish the
official code of the Ministry of Home Affairs (Kemendagri) beside them, so that other
systems (Satu Data, SP4N-LAPOR!, Open311 clients) can join on it.
"""

from __future__ import annotations

# Official Kemendagri code -> the portal's own regency code (province 62: 13 kabupaten, 1 kota).
KEMENDAGRI_REGENCY_CODES: dict[str, str] = {
    "62.01": "kotawaringin-barat",
    "62.02": "kotawaringin-timur",
    "62.03": "kapuas",
    "62.04": "barito-selatan",
    "62.05": "barito-utara",
    "62.06": "sukamara",
    "62.07": "lamandau",
    "62.08": "seruyan",
    "62.09": "katingan",
    "62.10": "pulang-pisau",
    "62.11": "gunung-mas",
    "62.12": "barito-timur",
    "62.13": "murung-raya",
    "62.71": "palangka-raya",
}
_OFFICIAL_BY_OWN = {own: official for official, own in KEMENDAGRI_REGENCY_CODES.items()}


def regency_from_kemendagri(code: str) -> str | None:
    """Return the portal's regency code for an official Kemendagri code, or None."""
    return KEMENDAGRI_REGENCY_CODES.get((code or "").strip())


def kemendagri_from_regency(regency: str | None) -> str | None:
    """Return the official Kemendagri code of one of the portal's regency codes, or None."""
    return _OFFICIAL_BY_OWN.get(regency or "")
