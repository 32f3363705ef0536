"""Property: every public read answers any query string or path segment without a 5xx.

Tracking look-ups (pages, API, Open311), catalogue search and filters, the accountability
tables and exports, published feedback, Open311 lists and the open-data CSV filters each get
their own parameters with hostile values (and some made-up parameters), sent as raw bytes.
A refused request writes nothing.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hardening.strategies import (
    FEW,
    assert_handled,
    extreme_dates,
    nasty_text,
    one_of_or_nasty,
    path_segment,
    query_string,
    row_counts,
    scalars,
)
from tests.hardening.world import make_world

DATES = ("from", "to", "start_date", "end_date")

# (address, its parameters); {seg} is a hostile path segment, {service}/{code} valid ones.
TARGETS = [
    ("/{lang}/track", ("code",)),
    ("/{lang}/feedback/{seg}", ("filed", "done")),
    ("/{lang}/feedback/{code}", ("filed", "done")),
    ("/api/v1/feedback/{seg}", ("lang",)),
    ("/open311/v2/requests/{seg}.json", ("lang", "jurisdiction_id")),
    ("/open311/v2/requests/{seg}.xml", ("lang",)),
    ("/{lang}/services", ("q", "department", "mode", "status", "page", "per_page")),
    ("/{lang}/services/{seg}", ("lang",)),
    ("/{lang}/departments/{seg}", ("page",)),
    ("/{lang}/services/{service}/survey", ("feedback",)),
    ("/api/v1/services", ("q", "department", "mode", "status", "lang", "page")),
    ("/api/v1/services/{seg}", ("lang",)),
    ("/api/v1/services/{service}/metrics", ("from", "to", "lang")),
    ("/api/v1/services/{seg}/metrics", ("from", "to")),
    ("/api/v1/services/{service}/wfa-impact", ("lang",)),
    ("/api/v1/accountability", ("period", "from", "to", "commission", "lang")),
    ("/api/v1/accountability.csv", ("period", "from", "to", "commission")),
    ("/{lang}/accountability", ("period", "from", "to", "commission", "sort", "dir")),
    ("/{lang}/accountability/departments/{seg}", ("period", "from", "to")),
    ("/{lang}/feedback", ("department", "service", "kind", "page")),
    ("/{lang}/incidents", ("service", "page")),
    ("/open311/v2/requests.json", ("start_date", "end_date", "status", "service_code",
                                   "service_request_id", "lang", "jurisdiction_id")),
    ("/open311/v2/services/{seg}.json", ("lang",)),
    ("/data/services.csv", ("service", "department", "lang")),
    ("/data/service_days.csv", ("service", "department", "from", "to", "lang")),
    ("/data/feedback_departments.csv", ("department", "from", "to")),
    ("/data/{seg}.csv", ("from",)),
]


def _value(name: str, world) -> st.SearchStrategy:
    """A hostile value for a parameter; dates and codes sometimes valid, to reach further."""
    if name in DATES:
        return st.one_of(extreme_dates, st.sampled_from(("2025-06-01", "2025-06-30")))
    if name in ("service", "service_code"):
        return one_of_or_nasty(world.service)
    if name == "department":
        return one_of_or_nasty(world.department)
    if name in ("code", "service_request_id", "feedback"):
        return one_of_or_nasty(world.tracking_code)
    return scalars


@pytest.mark.parametrize(("address", "names"), TARGETS, ids=[t[0] for t in TARGETS])
def test_a_public_read_survives_any_query(app, address, names):
    world = make_world()

    @FEW
    @given(params=st.fixed_dictionaries({}, optional={n: _value(n, world) for n in names}),
           made_up=st.dictionaries(nasty_text, scalars, max_size=2),
           segment=nasty_text, lang=st.sampled_from(("id", "en")))
    def check(params, made_up, segment, lang):
        path = address.format(lang=lang, seg=path_segment(segment), service=world.service,
                              code=world.tracking_code)
        query = query_string({**made_up, **params})
        before = row_counts()
        response = app.test_client().get(f"{path}?{query}")
        assert_handled(response, before)

    check()


@pytest.mark.parametrize(("path", "status"), [
    ("/en/services/izin%00a", 404),
    ("/id/departments/dinas%00a", 404),
    ("/en/services?department=dinas%00a", 400),
    ("/en/feedback?department=ok&department=dinas%00a", 400),
    ("/en/incidents?service=izin%00a", 400),
    ("/open311/v2/services/izin%00a.json", 404),
    ("/data/services.csv?service=izin%00a", 400),
])
def test_a_nul_character_in_a_page_address_or_query_is_refused_not_a_crash(app, path, status):
    # PostgreSQL refuses NUL in a text parameter: these were 500s there (the API had its 422).
    make_world()
    assert app.test_client().get(path).status_code == status
