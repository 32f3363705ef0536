"""The form an officer fills to publish their department's WFA arrangement."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.services.catalogue.arrangements import (
    MAX_NUMBER,
    MAX_REASON,
    MAX_TEXT,
    MAX_TITLE,
    MAX_URL,
)
from portal.web.forms import PortalForm
from portal.web.labels import WFA_APPLIES_LABELS


def _text(label, description=None) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=MAX_TEXT)],
                         description=description)


class ArrangementForm(PortalForm):
    """A new version of the department's arrangement (the last one prefills it)."""

    wfa_applies = RadioField(
        _l("Does WFA apply in the department?"),
        choices=[SelectChoice(value, label) for value, label in WFA_APPLIES_LABELS.items()],
        validators=[DataRequired()],
    )
    remote_share_percent = IntegerField(
        _l("Share of the department's civil servants (ASN) working remotely (%)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
        description=_l("A whole number from 0 to 100; leave empty if not known."),
    )
    legal_basis_title = StringField(
        _l("Legal basis: title"), validators=[Optional(), Length(max=MAX_TITLE)],
        description=_l("For example: Keputusan Kepala Dinas tentang Pelaksanaan WFA."),
    )
    legal_basis_number = StringField(
        _l("Legal basis: number"), validators=[Optional(), Length(max=MAX_NUMBER)],
    )
    legal_basis_date = DateField(_l("Legal basis: date"), validators=[Optional()])
    legal_basis_url = StringField(
        _l("Legal basis: link (optional)"), validators=[Optional(), Length(max=MAX_URL)],
        description=_l("A web address where the document can be read."),
    )
    supervision_id = _text(_l("How supervisors check work (Indonesian)"))
    supervision_en = _text(_l("How supervisors check work (English)"))
    reporting_id = _text(_l("How and how often staff report their work (Indonesian)"))
    reporting_en = _text(_l("How and how often staff report their work (English)"))
    it_systems_id = _text(_l("IT systems used (Indonesian)"))
    it_systems_en = _text(_l("IT systems used (English)"))
    effective_from = DateField(
        _l("In effect from"), validators=[InputRequired()],
        description=_l("The first day this arrangement applies."),
    )
    reason = TextAreaField(
        _l("What changed (optional, shown publicly)"),
        validators=[Optional(), Length(max=MAX_REASON)],
    )
