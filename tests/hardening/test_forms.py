"""Property: the citizens' HTML forms answer any input without a 5xx, and write nothing on refusal.

The feedback form (with and without attachments), the reply and reopen forms of the tracking
page, and the satisfaction survey get their valid fields with some values hostile, sent as raw
urlencoded bytes (lone surrogates included, as a client can send them) with a valid CSRF token,
so that the values get past CSRF and reach the form and the service.
"""

from __future__ import annotations

import io
import re

from hypothesis import given
from hypothesis import strategies as st

from portal.models.feedback import FEEDBACK_KINDS
from tests.factories import csrf_token_from
from tests.hardening.strategies import (
    FEW,
    FUZZ,
    assert_handled,
    form_body,
    mutated,
    nasty_text,
    one_of_or_nasty,
    path_segment,
    row_counts,
    scalars,
)
from tests.hardening.world import make_world

FORM = "application/x-www-form-urlencoded"
LANGS = st.sampled_from(("id", "en"))


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    return found.group(1) if found else ""


def _feedback_form(service: str) -> st.SearchStrategy:
    valid = {"kind": "complaint", "service": service, "subject": "Antrean panjang",
             "body": "Tiga jam menunggu di loket.", "regency": "kapuas", "identity": "normal",
             "name": "Siti", "email": "siti@example.com", "phone": "0812 3456 7890",
             "publish": "y", "website": "", "integrity": ""}
    hostile = {name: scalars for name in valid}
    hostile["kind"] = one_of_or_nasty(*FEEDBACK_KINDS)
    hostile["identity"] = one_of_or_nasty("normal", "anonymous", "confidential")
    hostile["client_token"] = scalars
    return mutated(valid, hostile)


def test_the_feedback_form_survives_any_values(app):
    world = make_world()
    client = app.test_client()
    html = client.get("/en/feedback/new").get_data(as_text=True)
    hidden = {"csrf_token": csrf_token_from(html)}

    @FUZZ
    @given(fields=_feedback_form(world.service), lang=LANGS)
    def check(fields, lang):
        before = row_counts()
        response = client.post(f"/{lang}/feedback/new", data=form_body({**hidden, **fields}),
                               content_type=FORM)
        assert_handled(response, before)

    check()


_file_names = st.one_of(st.sampled_from(("foto.jpg", "a.png", "x.pdf", ".jpg", "", "a" * 500,
                                         "../../etc/passwd", "nul\x00.jpg", "ｆｏｔｏ.ＪＰＧ")),
                        st.text(st.characters(codec="utf-8"), max_size=60))
_file_contents = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from((b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff\xe0" + b"\x00" * 40,
                     b"%PDF-1.4\n%%EOF", b"")),
)


def test_the_feedback_form_survives_any_attachment(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(tmp_path / "uploads"))
    world = make_world()
    client = app.test_client()
    html = client.get("/en/feedback/new").get_data(as_text=True)
    token = csrf_token_from(html)

    @FEW
    @given(files=st.lists(st.tuples(_file_names, _file_contents), min_size=1, max_size=4))
    def check(files):
        data = {"csrf_token": token, "kind": "complaint", "service": world.service,
                "subject": "Antrean", "body": "Menunggu.", "identity": "normal",
                "attachments": [(io.BytesIO(content), name) for name, content in files]}
        before = row_counts()
        response = client.post("/en/feedback/new", data=data,
                               content_type="multipart/form-data")
        assert_handled(response, before)

    check()


def test_reply_and_reopen_survive_any_text(app):
    world = make_world()
    client = app.test_client()
    # The session's token (the tracking page shows its forms only when a step is open).
    token = csrf_token_from(client.get("/en/feedback/new").get_data(as_text=True))

    @FUZZ
    @given(step=st.sampled_from((("reply", "body"), ("reopen", "reason"))), text=scalars,
           code=st.one_of(st.just(world.tracking_code), nasty_text), lang=LANGS)
    def check(step, text, code, lang):
        action, field = step
        before = row_counts()
        response = client.post(f"/{lang}/feedback/{path_segment(code)}/{action}",
                               data=form_body({"csrf_token": token, field: text}),
                               content_type=FORM)
        assert_handled(response, before)

    check()


def test_the_survey_survives_any_answers(app):
    world = make_world()
    client = app.test_client()
    path = f"/en/services/{world.service}/survey"
    html = client.get(f"{path}?feedback={world.tracking_code}").get_data(as_text=True)
    valid = {"csrf_token": csrf_token_from(html), "visit_token": _hidden(html, "visit_token"),
             "feedback": "", "website": "", **{f"u{i}": "3" for i in range(1, 10)}}
    hostile = {name: scalars for name in valid if name != "csrf_token"}
    hostile["feedback"] = one_of_or_nasty(world.tracking_code)
    hostile.update({f"u{i}": one_of_or_nasty("1", "4", "0", "5", "-1", "3.5", "1e9")
                    for i in range(1, 10)})

    @FUZZ
    @given(fields=mutated(valid, hostile), lang=LANGS)
    def check(fields, lang):
        before = row_counts()
        response = client.post(f"/{lang}/services/{world.service}/survey",
                               data=form_body(fields), content_type=FORM)
        assert_handled(response, before)

    check()
