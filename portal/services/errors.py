"""Domain errors raised by services and turned into HTTP answers by views and the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """Base class of the errors a service may raise."""


class NotFound(DomainError):
    """The object does not exist (or the caller may not know it exists)."""


class NotAuthorized(DomainError):
    """The caller is not allowed to do this."""


class IdempotencyConflict(DomainError):
    """An idempotency key (client token) was already used for a different request."""


class StorageUnavailable(DomainError):
    """A file could not be stored (a full or failing disk); nothing was recorded."""


# The machine codes of field problems, stable for API clients (the OpenAPI document lists
# them): what kind of rule the input broke, whatever the language of the message.
FIELD_ERROR_CODES = {
    "required": _l("The field is missing or empty."),
    "unknown_field": _l("The field is not part of this request."),
    "invalid_type": _l("The value has the wrong type (text, number, true or false, list)."),
    "invalid_format": _l("The value is not written as required (a date, an e-mail address)."),
    "invalid_choice": _l("The value is not one of those accepted."),
    "not_found": _l("The value names something that does not exist, such as a service."),
    "too_long": _l("The value is longer than allowed."),
    "out_of_range": _l("The value is outside what is allowed: in the future, too long a "
                       "period, before another date."),
    "duplicate": _l("The item repeats an earlier one of the same request."),
    "other_department": _l("The service belongs to another department than the token's."),
    "invalid": _l("The value breaks another rule; the message says which."),
}


@dataclass
class FieldError:
    """One problem with one piece of input: where it is, which field, and what is wrong.

    ``error`` is the message for people (translated); ``code`` the kind of problem for
    programs, one of FIELD_ERROR_CODES.
    """

    field: str
    error: str
    index: int | None = None
    code: str = "invalid"


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
