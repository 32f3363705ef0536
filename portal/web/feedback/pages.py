"""Citizen feedback pages: file, track, follow, reply, reopen (URLs start with the language)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from wtforms import SelectChoice

from portal.extensions import feedback_rate_limit, limiter, tracking_lookup_limit
from portal.i18n import current_lang, languages
from portal.models.feedback import Feedback
from portal.services.accountability.snapshots import accountability_data_version
from portal.services.attachments import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENT_MEGABYTES,
    MAX_ATTACHMENTS,
)
from portal.services.errors import IdempotencyConflict, NotFound, ValidationError
from portal.services.feedback import publishing as feedback_publish
from portal.services.feedback.citizen import (
    feedback_get,
    feedback_reopen,
    feedback_reply,
    feedback_service_groups,
    feedback_submit,
    tracking_code_normalise,
)
from portal.services.feedback.public_view import feedback_public_view
from portal.web import labels as feedback_labels
from portal.web.feedback.forms import (
    FeedbackForm,
    PublishedFilterForm,
    ReopenForm,
    ReplyForm,
    TrackForm,
)
from portal.web.form_errors import apply_validation_error
from portal.web.paging import page_number
from portal.web.public.live import cached_view, form_page

bp = Blueprint("feedback", __name__, url_prefix="/<lang>")


@bp.record_once
def _register_template_helpers(state) -> None:
    feedback_labels.init_app(state.app)


def _private(response):
    """A tracking page is for the holder of its code: never cached, never indexed."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# The form's fields; the service's errors on any other field go to the top of the form.
_FORM_FIELDS = {"kind", "integrity", "service", "subject", "body", "regency", "identity", "name",
                "email", "phone", "publish", "attachments"}
# The service's names for what the form asks as one choice.
_FIELD_RENAMES = {"anonymous": "identity", "confidential": "identity"}


def _files_forgotten(form: FeedbackForm) -> None:
    form.attachments.errors = list(form.attachments.errors) + [
        _("For your safety, browsers forget chosen files: please choose them again.")
    ]


def _render_new(form: FeedbackForm, status: int = 200, switched: bool = False):
    return render_template(
        "feedback/new.html",
        form=form,
        kind_hints=feedback_labels.KIND_HINTS,
        identity_hints=feedback_labels.IDENTITY_HINTS,
        max_attachments=MAX_ATTACHMENTS,
        max_attachment_megabytes=MAX_ATTACHMENT_MEGABYTES,
        switched=switched,
    ), status


def _render_empty(form: FeedbackForm, lang: str, client_token: str) -> str:
    """Render the empty form of a GET: its one-time client token, the service the address
    names (``?service=CODE``) chosen."""
    form.service.choices = service_select_choices(lang)
    form.client_token.data = client_token
    wanted = request.args.get("service", "")[:64]
    if wanted and any(choice.value == wanted for choice in form.service.choices):
        form.service.data = wanted
    return _render_new(form)[0]


def service_select_choices(lang: str) -> list[SelectChoice]:
    """Return the form's service choices: none, then each department's services in a group."""
    return [SelectChoice("", _("No particular service"))] + [
        SelectChoice(code, name, optgroup=department)
        for department, services in feedback_service_groups(lang)
        for code, name in services
    ]


def _switching_language() -> bool:
    """Tell whether the form was sent by a language button (to show it again, not to file)."""
    return request.method == "POST" and request.form.get("switch_language") in languages()


def _submission(form: FeedbackForm) -> dict:
    """Return what the form sends in the service's terms (the identity choice as two flags)."""
    return {
        "kind": form.kind.data,
        "service": form.service.data or None,
        "subject": form.subject.data,
        "body": form.body.data,
        "regency": form.regency.data or None,
        "name": form.name.data,
        "email": form.email.data,
        "phone": form.phone.data,
        "anonymous": form.identity.data == "anonymous",
        "confidential": form.identity.data == "confidential",
        "publish": bool(form.publish.data),
        "integrity": bool(form.integrity.data),
    }


def _uploaded_files(form: FeedbackForm) -> list[tuple[str, bytes]]:
    """Return the chosen files as (name, content), each read one byte past the size limit.

    The extra byte lets the service tell a file that is too large from one at the limit.
    """
    return [
        (upload.filename or "", upload.read(MAX_ATTACHMENT_BYTES + 1))
        for upload in request.files.getlist(form.attachments.name)
        if upload and upload.filename
    ]


@bp.route("/feedback/new", methods=["GET", "POST"])
@limiter.limit(feedback_rate_limit, methods=["POST"], exempt_when=_switching_language)
def new():
    """Show the feedback form and file what it sends (POST, redirect, GET).

    The language buttons of the form page send the form here in the other language: it comes
    back in that language with everything typed kept, filed only by "Send feedback". A POST,
    not a link: the text and the identity never go into a URL.
    """
    lang = current_lang()
    if request.method in ("GET", "HEAD"):
        # The same page for every visitor but for its tokens: kept without them (form_page).
        return form_page(lambda values: _render_empty(FeedbackForm(), lang, values["client"]),
                         {"client": lambda: secrets.token_urlsafe(24)})
    form = FeedbackForm()
    form.service.choices = service_select_choices(lang)
    if _switching_language():
        # CSRFProtect checked the form's token before the view ran; nothing is validated.
        if _uploaded_files(form):
            _files_forgotten(form)
        return _render_new(form, switched=True)

    if form.website.data:
        # A bot filled the hidden field: file nothing, say as little as possible.
        form.form_errors.append(_("Your feedback could not be sent. Please try again."))
        form.website.data = ""
        return _render_new(form, 422)
    if not form.validate():
        return _render_new(form, 422)
    files = _uploaded_files(form)
    try:
        feedback = feedback_submit(
            _submission(form), lang, client_token=form.client_token.data or None,
            attachments=files,
        )
    except ValidationError as error:
        apply_validation_error(form, error, _FIELD_RENAMES, _FORM_FIELDS)
        if files:
            _files_forgotten(form)
        return _render_new(form, 422)
    except IdempotencyConflict:
        # The form was sent before with other text (the back button, then a change): never
        # show the first feedback; offer to send this text as new feedback.
        form.client_token.data = secrets.token_urlsafe(24)
        form.form_errors.append(_(
            "This form was already sent with a different text. Check what you typed below "
            "and send it again to file it as new feedback."
        ))
        if files:
            _files_forgotten(form)
        return _render_new(form, 409)
    return redirect(url_for(".show", code=feedback.tracking_code_display, filed=1), code=303)


@bp.get("/track")
@tracking_lookup_limit(exempt_when=lambda: "code" not in request.args)
def track():
    """Find feedback by its tracking code, however the citizen typed it."""
    if "code" not in request.args:
        # The empty form (sent by GET: no token), the same for every visitor: kept.
        return _private(make_response(form_page(
            lambda _values: render_template("feedback/track.html", form=TrackForm()),
            csrf=False)))
    form = TrackForm(request.args)
    typed = form.code.data or ""
    if tracking_code_normalise(typed) is None:
        form.code.errors = [_(
            "A tracking code has 12 letters and digits, like K7QM-3TXV-9PH4."
        )]
        status = 422
    else:
        try:
            feedback = feedback_get(typed)
        except NotFound:
            form.code.errors = [
                _("We found no feedback with this code. Check it and try again.")
            ]
            status = 404
        else:
            return redirect(url_for(".show", code=feedback.tracking_code_display))
    return _private(make_response(render_template("feedback/track.html", form=form), status))


def _render_show(code: str, *, reply_form: ReplyForm | None = None,
                 reopen_form: ReopenForm | None = None, status: int = 200):
    feedback = feedback_get(code)
    view = feedback_public_view(feedback, current_lang())
    response = make_response(
        render_template(
            "feedback/show.html",
            view=view,
            reply_form=reply_form or ReplyForm(formdata=None),
            reopen_form=reopen_form or ReopenForm(formdata=None),
            filed=request.args.get("filed") == "1",
            done=request.args.get("done", ""),
        ),
        status,
    )
    return _private(response)


# The query parameters of the tracking page (read by _render_show).
_SHOW_PARAMETERS = ("filed", "done")


@bp.get("/feedback/<code>")
@tracking_lookup_limit()
def show(code: str):
    """Show the public view of one feedback: steps, answers, deadlines."""
    if tracking_code_normalise(code) is None:
        abort(404)
    # Any spelling finds it (5 for S, o for 0...): the address then shows the code as given.
    display = feedback_get(code).tracking_code_display
    if code != display:
        # Only the page's own parameters: anything else could clash with url_for's
        # arguments (code, _external, _scheme...).
        kept = {key: request.args[key] for key in _SHOW_PARAMETERS if key in request.args}
        return redirect(url_for(".show", code=display, **kept), code=301)
    return _render_show(display)


def _citizen_step(
    code: str,
    form: ReplyForm | ReopenForm,
    *,
    field: str,
    form_name: str,
    act: Callable[[str, str], Feedback],
    done: str,
):
    """Validate a citizen's form, call the service, and go back to the tracking page.

    ``field`` is the form's text, ``form_name`` the argument of _render_show that shows the
    form again with its errors, ``act`` the service and ``done`` what the page then confirms.
    """
    if not form.validate():
        return _render_show(code, status=422, **{form_name: form})
    try:
        feedback = act(code, getattr(form, field).data)
    except ValidationError as error:
        # A one-field form: whatever the service calls the text, it is this field.
        apply_validation_error(form, error, renames={e.field: field for e in error.errors})
        return _render_show(code, status=422, **{form_name: form})
    return redirect(
        url_for(".show", code=feedback.tracking_code_display, done=done, _anchor="timeline"),
        code=303,
    )


@bp.post("/feedback/<code>/reply")
@limiter.limit(feedback_rate_limit)
@tracking_lookup_limit()
def reply(code: str):
    """Add the citizen's reply."""
    return _citizen_step(code, ReplyForm(), field="body", form_name="reply_form",
                         act=feedback_reply, done="reply")


@bp.post("/feedback/<code>/reopen")
@limiter.limit(feedback_rate_limit)
@tracking_lookup_limit()
def reopen(code: str):
    """Reopen resolved feedback with the citizen's reason."""
    return _citizen_step(code, ReopenForm(), field="reason", form_name="reopen_form",
                         act=feedback_reopen, done="reopen")


@bp.get("/feedback")
@cached_view(accountability_data_version)
def published():
    """List the feedback whose reporters asked to publish it and staff approved, newest first.

    Served from the page cache while the public and accountability data versions hold:
    publishing and withdrawing are audited, and every handling step is a feedback event.
    """
    lang = current_lang()
    form = PublishedFilterForm(request.args)
    filters = feedback_publish.feedback_published_filters(lang)
    form.department.choices = [SelectChoice("", _("All departments"))] + [
        SelectChoice(code, name) for code, name in filters["departments"]]
    form.service.choices = [SelectChoice("", _("All services"))] + [
        SelectChoice(code, name) for code, name in filters["services"]]
    form.kind.choices = [SelectChoice("", _("All kinds"))] + [
        SelectChoice(kind, label) for kind, label in feedback_labels.KIND_LABELS.items()]
    wanted = {
        "department": (form.department.data or "")[:64],
        "service": (form.service.data or "")[:64],
        "kind": (form.kind.data or "")[:20],
    }
    result = feedback_publish.feedback_published_list(
        lang, page=page_number(request.args),
        **{key: value or None for key, value in wanted.items()},
    )
    return render_template(
        "feedback/published.html", form=form, result=result,
        filters={key: value for key, value in wanted.items() if value},
    )


@bp.get("/feedback/published/<int:feedback_id>")
@cached_view(accountability_data_version)
def published_item(feedback_id: int):
    """Show one published feedback: the approved text, its status, answers and deadlines."""
    feedback = feedback_publish.feedback_published_get(feedback_id)
    view = feedback_publish.feedback_published_view(feedback, current_lang())
    return render_template("feedback/published_item.html", view=view)
