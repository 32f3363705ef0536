"""The long chooser of services writes the same HTML as WTForms' own select, faster."""

import pytest
from wtforms import Form, SelectChoice, SelectField
from wtforms.widgets import Select

from portal.web.forms import LongSelect

CHOICES = [
    SelectChoice("", "No particular service"),
    SelectChoice("izin-usaha", "Izin <Usaha> & \"Toko\"", optgroup="DPMPTSP & co"),
    SelectChoice("ktp", "KTP-el", optgroup="Disdukcapil"),
    SelectChoice("kk", "", optgroup="Disdukcapil"),  # no label: the value shows
    SelectChoice("x'y", "Apostrophe's", optgroup="Disdukcapil"),
    SelectChoice("spaced", "Extra", optgroup="Dinas Kesehatan", render_kw={"data_hint": "a"}),
]


class _Both(Form):
    wtforms_own = SelectField(choices=CHOICES, validate_choice=False, widget=Select())
    long_select = SelectField(choices=CHOICES, validate_choice=False, widget=LongSelect())


def _render(data: dict) -> tuple[str, str]:
    from werkzeug.datastructures import MultiDict

    form = _Both(MultiDict(data))
    return (str(form.wtforms_own()).replace("wtforms_own", "FIELD"),
            str(form.long_select()).replace("long_select", "FIELD"))


@pytest.mark.parametrize("chosen", ["", "ktp", "izin-usaha", "x'y", "spaced", "unknown"])
def test_long_select_writes_wtforms_html_for_every_choice_state(chosen):
    own, fast = _render({"wtforms_own": chosen, "long_select": chosen})
    assert fast == own
    if chosen in {"ktp", "izin-usaha"}:
        assert "selected" in fast  # the chosen service stays chosen after an error


def test_long_select_escapes_labels_groups_and_values():
    _own, fast = _render({})
    assert "Izin &lt;Usaha&gt; &amp; &#34;Toko&#34;" in fast
    assert 'label="DPMPTSP &amp; co"' in fast
    assert 'value="x&#39;y"' in fast
    assert "<Usaha>" not in fast
