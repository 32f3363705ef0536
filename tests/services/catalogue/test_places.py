"""Where to go: telephone links and the map address of a place."""

from __future__ import annotations

import pytest

from portal.services.catalogue.places import Place, _phones, telephone


@pytest.mark.parametrize(("written", "uri"), [
    ("(0536) 3221443", "tel:+625363221443"),
    ("+62 536 322-1443", "tel:+625363221443"),
    ("62 536 3221443", "tel:+625363221443"),
    ("0811-5200-112", "tel:+628115200112"),
    ("112", None),
])
def test_a_written_number_becomes_an_international_tel_link(written, uri):
    found = telephone(written)
    assert (found.uri if found else None) == uri


def test_several_numbers_each_get_their_link():
    assert [p.uri for p in _phones("(0536) 3221443 / 0811 5200 112")] == [
        "tel:+625363221443", "tel:+628115200112"]


def test_the_map_link_marks_the_place_on_openstreetmap():
    place = Place("Jl. X", (), -2.2096, 113.9136, "", "")
    assert place.map_url == ("https://www.openstreetmap.org/?mlat=-2.20960&mlon=113.91360"
                             "#map=17/-2.20960/113.91360")
    assert Place("", (), None, 113.9, "", "").map_url is None
    assert not Place("", (), None, None, "", "").known
