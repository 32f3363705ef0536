"""Addresses built once and completed per key are url_for's, byte for byte."""

from __future__ import annotations

import pytest
from flask import url_for

from portal.web.urls import absolute_url_for, address_maker

KEYS = ["samsat-pkb", "a.b_c~d", "with space", "é-accent", "a/b?c#d", "100%", 42]


@pytest.mark.parametrize("absolute", [False, True])
def test_an_address_maker_gives_url_fors_address_for_any_key(app, absolute):
    build = absolute_url_for if absolute else url_for
    with app.test_request_context("/id/services"):
        services = address_maker("public.service", "code", absolute=absolute, lang="en")
        scorecards = address_maker("accountability.department", "code", absolute=absolute,
                                   lang="id", **{"from": "2025-01-01", "to": "2025-03-31"})
        for key in KEYS:
            assert services(key) == build("public.service", code=key, lang="en")
            assert scorecards(key) == build("accountability.department", code=key, lang="id",
                                            **{"from": "2025-01-01", "to": "2025-03-31"})


def test_an_address_maker_of_a_number_argument_writes_ids(app):
    with app.test_request_context("/id/incidents"):
        incident = address_maker("incidents.detail", "incident_id", lang="id")
        assert [incident(i) for i in (1, 2026)] == [
            url_for("incidents.detail", incident_id=i, lang="id") for i in (1, 2026)]
