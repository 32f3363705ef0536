"""Where to go for a service: the office address, telephone, opening hours and map position.

A service says where it is served when that is not its department's office (a Samsat office,
a laboratory); otherwise the department's office applies. Each fact falls back on its own:
a service with its own address but no telephone shows the department's telephone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.models.catalogue import Department, Service

# Zoom of the map link: a street with its buildings.
MAP_ZOOM = 17
_NUMBER_SPLIT = re.compile(r"\s*[/,;]\s*")

__all__ = ["Place", "Telephone", "department_place", "service_place"]


@dataclass(frozen=True)
class Telephone:
    """A telephone number as written, and its ``tel:`` address (international form)."""

    text: str
    uri: str


@dataclass(frozen=True)
class Place:
    """Where to go: each fact from the service, else from its department (empty: unknown)."""

    address: str
    phones: tuple[Telephone, ...]
    latitude: float | None
    longitude: float | None
    # The service's own opening hours (by language), else its department's.
    hours_id: str
    hours_en: str

    @property
    def map_url(self) -> str | None:
        """Return the OpenStreetMap address of the place (a marker on it), or None."""
        if self.latitude is None or self.longitude is None:
            return None
        lat, lon = f"{self.latitude:.5f}", f"{self.longitude:.5f}"
        return (f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}"
                f"#map={MAP_ZOOM}/{lat}/{lon}")

    @property
    def known(self) -> bool:
        """Tell whether anything is known of where to go."""
        return bool(self.address or self.phones or self.map_url or self.hours_id)


def telephone(text: str) -> Telephone | None:
    """Read one written number: ``(0536) 3221443`` → ``tel:+625363221443`` (None: no number)."""
    digits = re.sub(r"[^0-9+]", "", text)
    if digits.startswith("+"):
        digits = "+" + digits[1:].replace("+", "")
    elif digits.startswith("62"):
        digits = "+" + digits
    elif digits.startswith("0"):
        digits = "+62" + digits[1:]
    if len(digits.lstrip("+")) < 5:
        return None
    return Telephone(text.strip(), f"tel:{digits}")


def _phones(text: str) -> tuple[Telephone, ...]:
    """Read the numbers of a telephone field (several may be separated by / , or ;)."""
    found = (telephone(part) for part in _NUMBER_SPLIT.split(text or "") if part.strip())
    return tuple(phone for phone in found if phone is not None)


def service_place(service: Service) -> Place:
    """Return where to go for a service (its own facts first, its department's otherwise)."""
    department = service.department
    own_position = service.latitude is not None and service.longitude is not None
    own_hours = bool((service.hours_id or "").strip())
    return Place(
        address=service.address or department.address or "",
        phones=_phones(service.phone or department.phone or ""),
        latitude=service.latitude if own_position else department.latitude,
        longitude=service.longitude if own_position else department.longitude,
        hours_id=service.hours_id if own_hours else (department.hours_id or ""),
        hours_en=(service.hours_en or "") if own_hours else (department.hours_en or ""),
    )


def department_place(department: Department) -> Place:
    """Return where a department's office is: its address, telephone, position and hours."""
    return Place(
        address=department.address or "",
        phones=_phones(department.phone or ""),
        latitude=department.latitude,
        longitude=department.longitude,
        hours_id=department.hours_id or "",
        hours_en=department.hours_en or "",
    )
