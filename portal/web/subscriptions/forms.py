"""Forms of the subscription pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField
from wtforms.validators import InputRequired, Length

from portal.services.subscriptions.subscribe import MAX_EMAIL


class SubscribeForm(FlaskForm):
    """Ask for mail about a service, a department, the province or the DPRD digest.

    The service validates again; the topics are left out for the digest.
    """

    email = EmailField(
        _l("Your e-mail address"),
        validators=[
            InputRequired(message=_l("Enter your e-mail address.")),
            Length(max=MAX_EMAIL, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "email", "maxlength": MAX_EMAIL, "spellcheck": "false"},
    )
    topic_status = BooleanField(_l("Changes of a service's status (for example from meeting "
                                    "its commitment to at risk)"), default=True)
    topic_incidents = BooleanField(_l("Incidents: a service is disrupted"), default=True)
    topic_maintenance = BooleanField(_l("Planned maintenance"), default=True)

    def topics(self) -> list[str]:
        """Return the topics ticked."""
        return [name for name in ("status", "incidents", "maintenance")
                if getattr(self, f"topic_{name}").data]


class ConfirmForm(FlaskForm):
    """Confirm a subscription: a button, so that link scanners do not confirm by visiting."""


class UnsubscribeForm(FlaskForm):
    """End a subscription with one button (the POST needs no CSRF token: RFC 8058)."""

    class Meta:
        csrf = False
