"""What the credential commands (API tokens, Open311 keys) print, the same way for both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.domain.calendar import to_wib


def when(value: datetime | None) -> str:
    """Format an optional timestamp in WIB for a terminal."""
    return to_wib(value).strftime("%Y-%m-%d %H:%M WIB") if value else "-"


def credential_line(row: Any, *before: str, after: str = "") -> str:
    """Return one tab-separated line of a credential, never its value.

    Its id, the ``before`` columns, its state, when it was created and last used, ``after``.
    """
    state = f"revoked {when(row.revoked_at)}" if row.revoked_at else "active"
    return "\t".join([str(row.id), *before, state, f"created {when(row.created_at)}",
                      f"last used {when(row.last_used_at)}", after])
