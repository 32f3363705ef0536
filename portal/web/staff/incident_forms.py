"""Forms of the staff incident pages: open, update, schedule maintenance.

Choices (services, impacts, states) are filled in by the view with translated labels; the
services validate everything again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.services.metrics.incidents import MAX_BODY, MAX_TITLE
from portal.web.forms import PortalForm

WIB_FORMAT = "%Y-%m-%dT%H:%M"


class ServicesField(SelectMultipleField):
    """Several services chosen with checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _services_field() -> ServicesField:
    return ServicesField(
        _l("Services affected"),
        validators=[DataRequired(message=_l("Choose at least one service."))],
    )


class IncidentOpenForm(PortalForm):
    """Open an incident with its first public update."""

    services = _services_field()
    impact = SelectField(
        _l("Impact"), validators=[InputRequired(message=_l("Choose minor, major or outage."))])
    state = SelectField(_l("State"), validators=[
        InputRequired(message=_l("Choose investigating, identified or monitoring."))])
    title_id = StringField(_l("Title in Indonesian"),
                           validators=[DataRequired(), Length(max=MAX_TITLE)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=MAX_TITLE)],
                           description=_l("Optional: without it, English readers see the "
                                          "Indonesian title."))
    body_id = TextAreaField(_l("What is happening, in Indonesian"),
                            validators=[DataRequired(), Length(max=MAX_BODY)],
                            description=_l("Public: say what citizens cannot do and what to "
                                           "do instead. Never write personal data."))
    body_en = TextAreaField(_l("What is happening, in English"),
                            validators=[Optional(), Length(max=MAX_BODY)])


class IncidentUpdateForm(PortalForm):
    """Post a public update to an incident."""

    state = SelectField(_l("State"), validators=[
        InputRequired(message=_l("Choose investigating, identified, monitoring or resolved."))])
    body_id = TextAreaField(_l("Update in Indonesian"),
                            validators=[DataRequired(), Length(max=MAX_BODY)],
                            description=_l("Public. Never write personal data."))
    body_en = TextAreaField(_l("Update in English"), validators=[Optional(), Length(max=MAX_BODY)])


class MaintenanceForm(PortalForm):
    """Declare planned maintenance; times are read as WIB."""

    services = _services_field()
    starts_at = DateTimeLocalField(_l("Start (WIB)"), format=WIB_FORMAT,
                                   validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("End (WIB)"), format=WIB_FORMAT,
                                 validators=[InputRequired()])
    title_id = StringField(_l("Title in Indonesian"),
                           validators=[DataRequired(), Length(max=MAX_TITLE)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=MAX_TITLE)])
    description_id = TextAreaField(_l("Description in Indonesian"),
                                   validators=[Optional(), Length(max=MAX_BODY)])
    description_en = TextAreaField(_l("Description in English"),
                                   validators=[Optional(), Length(max=MAX_BODY)])
