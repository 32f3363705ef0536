"""Forms of the staff pages: login, accounts, catalogue upkeep."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from portal.services.auth import PASSWORD_MAX, PASSWORD_MIN, Role
from portal.services.catalogue.upkeep import MAX_REASON
from portal.web.forms import PortalForm
from portal.web.labels import ROLE_LABELS

UNIT_LABELS = {"working_days": _l("Working days"), "hours": _l("Hours")}


class LoginForm(PortalForm):
    """Staff login."""

    username = StringField(
        _l("Username"), validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class PostForm(PortalForm):
    """A button that only posts (log out, deactivate): the CSRF token is its one field."""


class UserCreateForm(PortalForm):
    """An administrator creates a staff account."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=64)],
        description=_l(
            "3 to 64 characters: lowercase letters, digits, dots, hyphens, underscores."
        ),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Work e-mail"), validators=[Optional(), Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in Role],
        validators=[DataRequired()],
    )
    department = SelectField(
        _l("Department"),
        choices=[],
        validate_choice=False,
        description=_l("Required for a department officer; leave empty for other roles."),
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)],
        description=_l("At least %(num)d characters; a few unrelated words are best. Common "
                       "passwords and ones made of the username are refused.", num=PASSWORD_MIN),
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create account"))


class WorkModeForm(PortalForm):
    """An officer records a change of a service's work mode."""

    work_mode = SelectField(_l("New work mode"), choices=[], validators=[DataRequired()])
    effective_from = DateField(
        _l("In effect from"), validators=[InputRequired()],
        description=_l("The first day the service works this way (not in the future)."),
    )
    reason = TextAreaField(
        _l("Reason (optional, shown publicly)"), validators=[Optional(), Length(max=MAX_REASON)]
    )
    submit = SubmitField(_l("Record the work mode change"))


class CommitmentForm(PortalForm):
    """An officer records a change of a service's commitment, always with a reason."""

    commitment_value = IntegerField(
        _l("Time to complete"), validators=[InputRequired(), NumberRange(min=0, max=8760)]
    )
    commitment_unit = SelectField(
        _l("Unit"), choices=[SelectChoice(u, label) for u, label in UNIT_LABELS.items()],
        validators=[DataRequired()],
    )
    on_time_target_percent = IntegerField(
        _l("Share of requests completed on time (%)"),
        validators=[InputRequired(), NumberRange(min=1, max=100)],
    )
    first_response_value = IntegerField(
        _l("Time to first response (optional)"),
        validators=[Optional(), NumberRange(min=0, max=8760)],
        description=_l("Leave empty if the service does not promise a first response."),
    )
    first_response_unit = SelectField(
        _l("Unit of the time to first response"),
        choices=[SelectChoice(u, label) for u, label in UNIT_LABELS.items()],
        validators=[Optional()],
    )
    effective_from = DateField(
        _l("In effect from"), validators=[InputRequired()],
        description=_l("The first day the new commitment applies (not in the future)."),
    )
    reason = TextAreaField(
        _l("Reason (required, shown publicly)"),
        validators=[DataRequired(message=_l("Say why the commitment changes.")),
                    Length(max=MAX_REASON)],
    )
    submit = SubmitField(_l("Record the commitment change"))


class TokenCreateForm(PortalForm):
    """Create an API token for a department's reporting system."""

    department = SelectField(_l("Department"), choices=[], validate_choice=False,
                             validators=[DataRequired()])
    label = StringField(
        _l("Label"),
        validators=[Optional(), Length(max=200)],
        description=_l("What uses this token, e.g. \"SAMSAT counter system\"."),
    )
