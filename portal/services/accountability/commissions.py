"""The accountability table of one DPRD commission's departments (docs/definitions.md §10).

Each department belongs to at most one of the DPRD's four commissions (catalogue column
``dprd_commission``). The pages, the downloads and the reports can show only the departments
one commission oversees; the province's row stays the whole province's, so a commission reads
its departments against the province they are part of.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from flask_babel import gettext as _

from portal.models.catalogue import DPRD_COMMISSIONS
from portal.services.accountability.tables import AccountabilityTable, accountability_table
from portal.services.errors import FieldError, ValidationError


def commission_resolve(raw: str | None) -> str | None:
    """Return the commission a query asks for (None: every department); refuse unknown ones.

    Accepts the Roman numerals I to IV in any case; an empty value means no filter. Raises
    ValidationError (field ``commission``, code ``invalid_choice``) with a translated message.
    """
    text = (raw or "").strip().upper()
    if not text:
        return None
    if text not in DPRD_COMMISSIONS:
        raise ValidationError([FieldError(
            "commission",
            _("There is no such DPRD commission: choose I, II, III or IV, or all "
              "departments."),
            code="invalid_choice",
        )])
    return text


def commission_table(table: AccountabilityTable, commission: str | None) -> AccountabilityTable:
    """Keep the departments of one commission (all of them when ``commission`` is None)."""
    if commission is None:
        return table
    return dataclasses.replace(table, departments=[
        row for row in table.departments
        if row.department is not None and row.department.dprd_commission == commission
    ])


def accountability_commission_table(
    from_date: date, to_date: date, commission: str | None, now: datetime | None = None,
) -> AccountabilityTable:
    """Return the accountability table over a period, for one commission's departments."""
    return commission_table(accountability_table(from_date, to_date, now=now), commission)


__all__ = [
    "DPRD_COMMISSIONS",
    "accountability_commission_table",
    "commission_resolve",
    "commission_table",
]
