"""Show a service's ValidationError on the WTForms form that sent the input.

Services validate again whatever a form checked (so no entry point skips a rule) and name the
field of each problem in their own words; this puts every problem where the reader looks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from wtforms import Field, Form
from wtforms.fields import FieldList, HiddenField

from portal.services.errors import FieldError, ValidationError

__all__ = ["apply_validation_error"]


def _target(
    form: Form, item: FieldError, renames: Mapping[str, str], fields: Collection[str] | None
) -> Field | None:
    """Return the visible field an error belongs next to, or None (then it goes on top)."""
    name = renames.get(item.field, item.field)
    if fields is not None and name not in fields:
        return None
    field = form._fields.get(name)
    if field is None or isinstance(field, HiddenField):
        # Hidden fields (tokens, the CSRF token) have no place to show an error.
        return None
    if isinstance(field, FieldList) and item.index is not None:
        # A batch: the error goes next to the item it is about, when the form has it.
        entries = field.entries
        return entries[item.index] if 0 <= item.index < len(entries) else field
    return field


def apply_validation_error(
    form: Form,
    error: ValidationError,
    renames: Mapping[str, str] | None = None,
    fields: Collection[str] | None = None,
) -> None:
    """Put each of a service's field errors next to its field, the others in ``form_errors``.

    ``renames`` maps a service's field name to the form's (``{"reason": "text"}``); ``fields``,
    when given, limits which form fields take errors next to them. An error whose field the
    form does not show (unknown, hidden, or left out by ``fields``) goes to ``form_errors``,
    which the templates list above the form.
    """
    for item in error.errors:
        target = _target(form, item, renames or {}, fields)
        if target is None:
            form.form_errors.append(item.error)
        else:
            # Field.errors is a tuple until validation has run on that field.
            target.errors = [*target.errors, item.error]
