"""Domain errors raised by services and turned into HTTP answers by views and the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _


class DomainError(Exception):
    """Base class of the errors a service may raise."""


class NotFound(DomainError):
    """The object does not exist (or the caller may not know it exists)."""


class NotAuthorized(DomainError):
    """The caller is not allowed to do this."""


class IdempotencyConflict(DomainError):
    """An idempotency key (client token) was already used for a different request."""


@dataclass
class FieldError:
    """One problem with one piece of input: where it is, which field, and what is wrong."""

    field: str
    error: str
    index: int | None = None


@dataclass
class ValidationError(DomainError):
    """The input breaks a rule; nothing was written."""

    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(
            f"{'' if e.index is None else f'#{e.index} '}{e.field}: {e.error}" for e in self.errors
        )


def must_be_one_of(values: Iterable[str]) -> str:
    """Say which code values a field accepts, for the API and the CLI: 'must be one of "a", "b"'.

    The values are the literal codes a program must send, quoted and never translated; forms
    show their own message in words instead.
    """
    return _("must be one of %(values)s", values=", ".join(f'"{value}"' for value in values))
