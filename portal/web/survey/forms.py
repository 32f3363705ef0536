"""The satisfaction survey form (nine elements, each 1–4)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired

from portal.models.survey import SURVEY_ELEMENTS
from portal.services.survey.skm import ELEMENT_LABELS, SCORE_LABELS
from portal.web.forms import PortalForm


def _score_field(name: str) -> RadioField:
    return RadioField(
        ELEMENT_LABELS[name],
        choices=[SelectChoice(str(score), label) for score, label in SCORE_LABELS.items()],
        validators=[InputRequired(message=_l("Choose an answer from 1 to 4."))],
    )


class SurveyForm(PortalForm):
    """Answer the nine questions of the satisfaction survey about one service."""

    u1 = _score_field("u1")
    u2 = _score_field("u2")
    u3 = _score_field("u3")
    u4 = _score_field("u4")
    u5 = _score_field("u5")
    u6 = _score_field("u6")
    u7 = _score_field("u7")
    u8 = _score_field("u8")
    u9 = _score_field("u9")
    # The random token of this visit of the form: one answer per visit.
    visit_token = HiddenField()
    # The tracking code of the resolved feedback the answer follows, if any.
    feedback = HiddenField()
    # Honeypot: hidden from people by CSS, left empty by them; bots fill every field.
    website = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )

    def score_fields(self) -> list[RadioField]:
        """Return the nine score fields in order."""
        return [getattr(self, name) for name in SURVEY_ELEMENTS]
