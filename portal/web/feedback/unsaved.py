"""The feedback form again, filled with what was sent, when it could not be saved (503).

``portal.web.outage`` calls this when the database or the attachment storage failed while a
citizen sent the form: nothing was recorded, so the page says so and gives every field back,
with a fresh CSRF token and the same client token (sending it again files it once).
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from wtforms import SelectChoice

from portal.i18n import current_lang
from portal.web import labels as feedback_labels
from portal.web.feedback.forms import FeedbackForm
from portal.web.feedback.pages import service_select_choices


def _service_choices(form: FeedbackForm, *, database_down: bool) -> list[SelectChoice]:
    """Offer the services again; without a database, the one chosen under its code."""
    if not database_down:
        return service_select_choices(current_lang())
    chosen = (form.service.data or "")[:64]
    return [SelectChoice("", _("No particular service"))] + (
        [SelectChoice(chosen, chosen)] if chosen else [])


def feedback_unsaved(*, database_down: bool, maybe_saved: bool = False) -> str:
    """Render the form as the citizen sent it, under a message that nothing was saved.

    ``maybe_saved``: the request committed before the failure, so the feedback may be
    stored; the page says so (sending the form again, with its client token, files it once).
    """
    form = FeedbackForm()  # bound to the request's form: every field as sent
    form.service.choices = _service_choices(form, database_down=database_down)
    if any(upload.filename for upload in request.files.getlist(form.attachments.name)):
        form.attachments.errors = [
            _("For your safety, browsers forget chosen files: please choose them again.")
        ]
    return render_template(
        "feedback/unsaved.html",
        form=form,
        maybe_saved=maybe_saved,
        hints={"kind": feedback_labels.KIND_HINTS, "identity": feedback_labels.IDENTITY_HINTS},
    )
