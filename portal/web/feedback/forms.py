"""Forms of the citizen feedback pages: filing, tracking, replying, reopening."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.models.feedback import (
    FEEDBACK_KINDS,
    IDENTITY_CHOICES,
    MAX_BODY,
    MAX_EMAIL,
    MAX_NAME,
    MAX_PHONE,
    MAX_REASON,
    MAX_SUBJECT,
    REGENCIES,
)
from portal.web.forms import LongSelect
from portal.web.labels import IDENTITY_LABELS, KIND_LABELS

TOO_LONG = _l("Use at most %(max)d characters.")


class TextLimit(Length):
    """Length, without the ``maxlength`` attribute WTForms would put on the field."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.field_flags = {}

# Texts a browser must not cut: no maxlength (a pasted text beyond it would be cut without a
# word); data-maxlength gives the limit to the counter script, the server refuses what is
# longer and gives the text back.


class FeedbackForm(FlaskForm):
    """File a complaint, suggestion, question or compliment.

    The service validates everything again (the API skips this form); the limits here only
    give the citizen the same messages earlier.
    """

    kind = RadioField(
        _l("What do you want to send?"),
        choices=[SelectChoice(kind, KIND_LABELS[kind]) for kind in FEEDBACK_KINDS],
        validators=[
            InputRequired(message=_l("Choose complaint, suggestion, question or compliment."))
        ],
    )
    # Choices are filled per request from the catalogue; the service checks the code.
    service = SelectField(_l("Which service is it about? (optional)"), validate_choice=False,
                          widget=LongSelect())
    subject = StringField(
        _l("Subject"),
        validators=[
            InputRequired(message=_l("Enter a subject.")),
            TextLimit(max=MAX_SUBJECT, message=TOO_LONG),
        ],
        render_kw={"data-maxlength": MAX_SUBJECT},
    )
    body = TextAreaField(
        _l("Your feedback"),
        validators=[
            InputRequired(message=_l("Describe your feedback.")),
            TextLimit(max=MAX_BODY, message=TOO_LONG),
        ],
        render_kw={"rows": 8, "data-maxlength": MAX_BODY},
    )
    integrity = BooleanField(
        _l("This is about corruption, bribery, illegal levies (pungli) or other misconduct "
           "by officials"),
    )
    regency = SelectField(
        _l("Regency or city (optional)"),
        choices=[SelectChoice("", _l("Not stated"))]
        + [SelectChoice(code, name) for code, name in REGENCIES.items()],
        # The service checks the value (and a missing one means "not stated").
        validate_choice=False,
    )
    identity = RadioField(
        _l("Who may see your name and contact details?"),
        choices=[SelectChoice(value, IDENTITY_LABELS[value]) for value in IDENTITY_CHOICES],
        default="normal",
        validators=[InputRequired()],
    )
    name = StringField(
        _l("Name (optional)"),
        validators=[Optional(), TextLimit(max=MAX_NAME, message=TOO_LONG)],
        render_kw={"autocomplete": "name", "data-maxlength": MAX_NAME},
    )
    email = EmailField(
        _l("E-mail (optional): we tell you by e-mail when something happens"),
        validators=[Optional(), TextLimit(max=MAX_EMAIL, message=TOO_LONG)],
        render_kw={"autocomplete": "email", "data-maxlength": MAX_EMAIL, "spellcheck": "false"},
    )
    phone = TelField(
        _l("Phone (optional)"),
        validators=[Optional(), TextLimit(max=MAX_PHONE, message=TOO_LONG)],
        render_kw={"autocomplete": "tel", "data-maxlength": MAX_PHONE},
    )
    publish = BooleanField(
        _l("Publish my feedback on the portal, without my name, once staff have checked it")
    )
    attachments = MultipleFileField(
        _l("Photos or documents (optional)"),
        render_kw={"accept": "image/jpeg,image/png,application/pdf"},
    )
    # Honeypot: hidden from people by CSS, left empty by them; bots fill every field.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    # Random per form: a double submit of the same form creates one feedback.
    client_token = HiddenField()


class TrackForm(FlaskForm):
    """Enter a tracking code (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    code = StringField(
        _l("Tracking code"),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                   "placeholder": "K7QM-3TXV-9PH4"},
    )


class ReplyForm(FlaskForm):
    """The citizen adds a reply."""

    body = TextAreaField(
        _l("Your reply"),
        validators=[
            InputRequired(message=_l("Write your reply.")),
            TextLimit(max=MAX_REASON, message=TOO_LONG),
        ],
        render_kw={"rows": 4, "data-maxlength": MAX_REASON},
    )


class ReopenForm(FlaskForm):
    """The citizen reopens resolved feedback with a reason."""

    reason = TextAreaField(
        _l("Why is the problem not solved?"),
        validators=[
            InputRequired(message=_l("Say why the problem is not solved.")),
            TextLimit(max=MAX_REASON, message=TOO_LONG),
        ],
        render_kw={"rows": 4, "data-maxlength": MAX_REASON},
    )


# -- staff ------------------------------------------------------------------------------------


class StaffTextForm(FlaskForm):
    """One text: an answer, an internal note, a reason for investigation or rejection."""

    text = TextAreaField(
        _l("Text"),
        validators=[
            InputRequired(message=_l("Write something.")),
            TextLimit(max=MAX_REASON, message=TOO_LONG),
        ],
        render_kw={"rows": 5, "data-maxlength": MAX_REASON},
    )


class StaffStatusForm(FlaskForm):
    """Move feedback to another status, with an optional public note."""

    status = SelectField(_l("New status"), validate_choice=False)
    text = TextAreaField(
        _l("Note to the citizen (optional, public)"),
        validators=[Optional(), TextLimit(max=MAX_REASON, message=TOO_LONG)],
        render_kw={"rows": 3, "data-maxlength": MAX_REASON},
    )


class StaffDepartmentForm(FlaskForm):
    """Route or transfer feedback to a department (a reason is required to transfer)."""

    department = SelectField(_l("Department"), validate_choice=False)
    text = TextAreaField(
        _l("Reason (public)"),
        validators=[Optional(), TextLimit(max=MAX_REASON, message=TOO_LONG)],
        render_kw={"rows": 3, "data-maxlength": MAX_REASON},
    )


class StaffPublishForm(FlaskForm):
    """Staff write the public version of a feedback's text and approve publishing it."""

    subject = StringField(
        _l("Public subject"),
        validators=[
            InputRequired(message=_l("Write the public subject.")),
            TextLimit(max=MAX_SUBJECT, message=TOO_LONG),
        ],
        render_kw={"data-maxlength": MAX_SUBJECT},
    )
    body = TextAreaField(
        _l("Public text"),
        validators=[
            InputRequired(message=_l("Write the public text.")),
            TextLimit(max=MAX_BODY, message=TOO_LONG),
        ],
        render_kw={"rows": 8, "data-maxlength": MAX_BODY},
    )


class StaffConfirmForm(FlaskForm):
    """A button that only posts (decline publishing, delete a rule): its CSRF token."""


class RoutingRuleForm(FlaskForm):
    """An administrator adds a routing rule."""

    department = SelectField(_l("Department"), validate_choice=False)
    phrase = StringField(
        _l("Word or phrase"),
        description=_l(
            "Feedback whose subject or text contains it as whole words goes to the department. "
            "Capital letters, accents and punctuation do not matter."
        ),
        validators=[InputRequired(message=_l("Enter a word or phrase.")),
                    TextLimit(max=200, message=TOO_LONG)],
        render_kw={"data-maxlength": 200, "autocomplete": "off"},
    )
    priority = IntegerField(
        _l("Priority"),
        default=0,
        description=_l("When several rules match, the highest priority wins."),
        validators=[InputRequired(message=_l("Enter a whole number.")),
                    NumberRange(min=-1000, max=1000)],
    )


class IntegrityPhraseForm(FlaskForm):
    """An administrator adds an integrity phrase (routing rule 0)."""

    phrase = StringField(
        _l("Word or phrase"),
        description=_l(
            "Feedback whose subject or text contains it as whole words is an integrity report: "
            "it goes to the integrity unit, never to the department concerned. Capital "
            "letters, accents and punctuation do not matter."
        ),
        validators=[InputRequired(message=_l("Enter a word or phrase.")),
                    TextLimit(max=200, message=TOO_LONG)],
        render_kw={"data-maxlength": 200, "autocomplete": "off"},
    )


class IntegrityUnitForm(FlaskForm):
    """An administrator chooses the integrity unit."""

    department = SelectField(_l("Department acting as the integrity unit"),
                             validate_choice=False)


class TriageUnitForm(FlaskForm):
    """An administrator chooses the triage unit."""

    department = SelectField(_l("Department acting as the triage unit"), validate_choice=False)


class PublishedFilterForm(FlaskForm):
    """Filter the public list of published feedback (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    department = SelectField(_l("Department"), validate_choice=False)
    service = SelectField(_l("Service"), validate_choice=False, widget=LongSelect())
    kind = SelectField(_l("Kind"), validate_choice=False)
