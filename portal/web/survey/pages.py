"""Satisfaction survey (SKM) pages: /<lang>/services/<code>/survey, with CSRF, honeypot, limit."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.extensions import limiter
from portal.i18n import current_lang
from portal.services.catalogue import directory as catalogue
from portal.services.errors import ValidationError
from portal.services.survey.skm import (
    ELEMENT_QUESTIONS,
    survey_submit,
    survey_visit_issue,
    survey_visit_read,
)
from portal.web.form_errors import apply_validation_error
from portal.web.public.live import form_page
from portal.web.survey.forms import SurveyForm

bp = Blueprint("survey", __name__, url_prefix="/<lang>")


def survey_rate_limit() -> str:
    """Return the per-client limit on survey answers (PORTAL_SURVEY_RATE_LIMIT)."""
    return current_app.config["PORTAL_SURVEY_RATE_LIMIT"]


def _page(service, form: SurveyForm) -> str:
    return render_template("survey/form.html", service=service, form=form,
                           questions=ELEMENT_QUESTIONS)


def _render(service, form: SurveyForm, status: int = 200):
    return _no_store(_page(service, form), status)


def _no_store(html: str, status: int = 200):
    response = current_app.make_response((html, status))
    # The page holds a one-time signed token: never kept by a browser or a proxy (the page
    # cache keeps it without the token: form_page).
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _service(code: str):
    """Return the surveyed service: its name and code are all the page shows, so its row
    alone, without its histories (NotFound: 404)."""
    return catalogue.service_get(code, related=False)


@bp.route("/services/<code>/survey", methods=["GET", "POST"])
@limiter.limit(survey_rate_limit, methods=["POST"])
def form(code: str):
    """Show the nine-question survey about a service and record an answer."""
    if request.method in ("GET", "HEAD"):
        # The same page for every visitor but for its tokens: kept without them (form_page).
        # The service is read when the page is rendered (an unknown code: 404, nothing kept);
        # a kept page's address names a service found by that very code.
        def render(values: dict[str, str]) -> str:
            service = _service(code)
            survey_form = SurveyForm()
            survey_form.visit_token.data = values["visit"]
            survey_form.feedback.data = request.args.get("feedback", "")[:32]
            return _page(service, survey_form)

        return _no_store(form_page(render, {"visit": lambda: survey_visit_issue(code)}))
    service = _service(code)
    survey_form = SurveyForm()
    if survey_form.website.data:
        survey_form.form_errors.append(_("Your answer could not be sent. Please try again."))
        survey_form.website.data = ""
        return _render(service, survey_form, 422)
    if not survey_form.validate():
        return _render(service, survey_form, 422)
    try:
        survey_submit(
            service.code,
            {f.name: f.data for f in survey_form.score_fields()},
            feedback_code=survey_form.feedback.data or None,
            visit_token=survey_form.visit_token.data,
            lang=current_lang(),
        )
    except ValidationError as error:
        # Errors about the hidden tracking code and visit token go above the form.
        apply_validation_error(survey_form, error)
        if not survey_form.feedback.data and survey_visit_read(
                service.code, survey_form.visit_token.data) is None:
            # Expired or not ours: a fresh token lets the citizen send the kept answers again.
            survey_form.visit_token.data = survey_visit_issue(service.code)
        return _render(service, survey_form, 422)
    return redirect(url_for(".thanks", code=service.code), code=303)


@bp.get("/services/<code>/survey/thanks")
def thanks(code: str):
    """Thank the citizen and say how the answers are used."""
    return render_template("survey/thanks.html", service=catalogue.service_get(code))
