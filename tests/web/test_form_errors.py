"""One mapper puts a service's ValidationError onto the form that sent the input."""

from __future__ import annotations

from wtforms import FieldList, Form, HiddenField, StringField

from portal.services.errors import FieldError, ValidationError
from portal.web.form_errors import apply_validation_error


class _Form(Form):
    name = StringField()
    text = StringField()
    token = HiddenField()
    phones = FieldList(StringField(), min_entries=2)


def _fresh() -> _Form:
    """Return a form whose fields have not been validated (their errors are still tuples)."""
    return _Form()


def test_field_errors_go_next_to_their_field_and_the_rest_above_the_form():
    form = _fresh()
    apply_validation_error(form, ValidationError([
        FieldError("name", "is required"),
        FieldError("name", "is too long"),
        FieldError("department", "does not exist"),
    ]))
    assert form.name.errors == ["is required", "is too long"]
    assert form.form_errors == ["does not exist"]
    assert form.text.errors == ()


def test_errors_about_hidden_fields_or_form_attributes_go_above_the_form():
    form = _fresh()
    apply_validation_error(form, ValidationError([
        FieldError("token", "has expired"),
        FieldError("errors", "is not a field"),
        FieldError("data", "is not a field either"),
    ]))
    assert form.form_errors == ["has expired", "is not a field", "is not a field either"]
    assert form.token.errors == ()


def test_renames_and_a_list_of_fields_that_take_errors():
    form = _fresh()
    apply_validation_error(
        form,
        ValidationError([FieldError("reason", "is empty"), FieldError("name", "is taken")]),
        renames={"reason": "text"},
        fields=("text",),
    )
    assert form.text.errors == ["is empty"]
    assert form.name.errors == ()
    assert form.form_errors == ["is taken"]


def test_an_error_about_one_item_of_a_batch_goes_next_to_that_item():
    form = _fresh()
    apply_validation_error(form, ValidationError([
        FieldError("phones", "is not a phone number", index=1),
        FieldError("phones", "has too many entries", index=7),
    ]))
    assert form.phones.entries[1].errors == ["is not a phone number"]
    assert form.phones.entries[0].errors == ()
    # No such item on the form: the message goes with the whole list.
    assert form.phones.errors == ["has too many entries"]
