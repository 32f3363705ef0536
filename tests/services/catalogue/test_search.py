"""Search finds the words people use, ranked, a page at a time; pointers say where else to go.

Run against the demo catalogue (its names, texts and keywords as a province would write them).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.calendar import utc_now
from portal.domain.search import query_words, search_text
from portal.extensions import db
from portal.models import Incident, Service, ServiceReport, ServiceStatus
from portal.models.metrics import SERVICE_STATUSES
from portal.services.catalogue.directory import catalogue_import_file
from portal.services.catalogue.pointers import pointer_import_file
from portal.services.catalogue.search import (
    MAX_PER_PAGE,
    ListedService,
    service_facts,
    service_facts_page,
    service_search_page,
)
from portal.services.demo.load import DEMO_CATALOGUE, DEMO_POINTERS
from portal.services.metrics.status import status_for_services
from tests.factories import create_department, create_service


@pytest.fixture
def demo_catalogue(app):
    catalogue_import_file(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    pointer_import_file(DEMO_POINTERS.read_text(encoding="utf-8"))


def codes(query: str, **filters) -> list[str]:
    found = service_search_page(query, per_page=MAX_PER_PAGE, **filters)
    return [row.service.code for row in found.page.items]


def test_words_are_folded_split_and_kept_joined_when_hyphenated():
    assert search_text(["Surat Keterangan e-KTP", "SÜRAT ktp-el"]) == (
        " surat keterangan e ktp ektp el ktpel ")
    assert query_words("  E-KTP   Éxtra  e ktp ") == ["e", "ktp", "extra"]


def test_samsat_finds_the_samsat_services_by_keyword(demo_catalogue):
    assert set(codes("samsat")) == {
        "samsat-pkb-tahunan", "samsat-stnk-lima-tahunan", "samsat-balik-nama"}
    assert codes("SAMSAT") == codes("samsat")  # case does not matter


def test_pajak_finds_the_stnk_and_ownership_transfer_services_first(demo_catalogue):
    found = codes("pajak")
    assert set(found[:3]) == {
        "samsat-pkb-tahunan", "samsat-stnk-lima-tahunan", "samsat-balik-nama"}


def test_words_are_matched_as_word_prefixes_in_both_languages(demo_catalogue):
    assert "samsat-balik-nama" in codes("balik nam")  # "nam" starts "nama"
    assert "samsat-balik-nama" in codes("ownership transfer")
    assert "samsat-balik-nama" in codes("used car")  # an English keyword
    assert "disdik-legalisasi-ijazah" in codes("ijazah")
    # A prefix, not a substring: "ama" is inside "nama" but starts no word there.
    assert "samsat-balik-nama" not in codes("ama")


def test_accents_do_not_matter(demo_catalogue):
    assert codes("Pénggantian STNK") == codes("penggantian stnk") != []


def test_department_names_and_short_names_find_their_services(demo_catalogue):
    dinkes = set(codes("dinkes"))
    assert {"dinkes-pbf-cabang", "dinkes-uji-kualitas-air"} <= dinkes
    assert set(codes("Regional Revenue Agency")) >= {"samsat-pkb-tahunan"}


def test_the_standard_texts_are_searched_but_names_rank_first(demo_catalogue):
    # "SWDKLLJ" appears only in two samsat services' procedure and cost texts.
    assert set(codes("swdkllj")) == {"samsat-pkb-tahunan", "samsat-stnk-lima-tahunan"}
    # "ktp" is in many requirements (KTP-el); the Disdukcapil services have it as a keyword.
    found = codes("ktp")
    assert len(found) > 2
    assert set(found[:2]) == {"disdukcapil-jemput-bola-kelompok-rentan",
                              "disdukcapil-masalah-data-kependudukan"}


def test_ktp_e_ktp_and_id_card_point_to_the_regency_disdukcapil(demo_catalogue):
    for query in ("KTP", "e-ktp", "ID card", "akta kelahiran", "bikin ktp di palangka raya"):
        found = service_search_page(query)
        assert [p.code for p in found.pointers] == ["adminduk-ktp-kk-akta"], query
    assert service_search_page("samsat").pointers == []


def test_a_word_no_service_has_is_left_out_and_named(demo_catalogue):
    found = service_search_page("cara bayar pajak motor")
    assert found.ignored == ["cara"]
    assert "samsat-pkb-tahunan" in [row.service.code for row in found.page.items]
    # With every word found nowhere, nothing is left out and nothing is found.
    empty = service_search_page("xyzzy qwertz")
    assert (empty.page.total, empty.ignored) == (0, [])


def test_filters_apply_with_the_search(demo_catalogue):
    assert codes("pengaduan", department_code="dlh") == ["dlh-pengaduan-pencemaran"]
    assert all(code.startswith("samsat") for code in codes("samsat", work_mode="onsite"))
    assert codes("samsat", work_mode="onsite") == sorted(codes("samsat", work_mode="onsite"),
                                                         key=codes("samsat").index)


def test_pages_cover_every_service_once_in_name_order(demo_catalogue):
    total = db.session.query(Service).count()
    seen: list[str] = []
    page = 1
    while True:
        found = service_search_page(page=page, per_page=20)
        assert found.page.total == total
        seen += [row.service.code for row in found.page.items]
        if not found.page.has_next:
            break
        page = found.page.next_num
    assert len(seen) == len(set(seen)) == total
    names = [db.session.scalar(select(Service.name_id).where(Service.code == c)) for c in seen]
    assert names == sorted(names, key=str.casefold)
    # Past the last page: the last page; per_page is capped.
    last = service_search_page(page=999, per_page=20).page
    assert (last.page, last.has_next, last.has_prev) == (last.pages, False, True)
    assert service_search_page(per_page=5000).page.per_page == MAX_PER_PAGE


def test_english_lists_are_in_english_name_order(demo_catalogue):
    found = service_search_page(per_page=MAX_PER_PAGE, lang="en")
    names = [row.service.name_en for row in found.page.items]
    assert names == sorted(names, key=str.casefold)


def test_a_department_rename_is_found_without_touching_its_services(demo_catalogue):
    text = DEMO_CATALOGUE.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["department_code"] == "dlh":
            row["department_short_name"] = "Dinas Hijau"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    catalogue_import_file(out.getvalue())
    assert set(codes("hijau")) == {"dlh-pemeriksaan-ukl-upl", "dlh-pengaduan-pencemaran",
                                   "dlh-uji-laboratorium-lingkungan"}


# The JSON API's pages: plain columns, the same services -------------------------------------

FACTS = ("id", "code", "name_id", "name_en", "work_mode", "work_mode_since", "commitment_value",
         "commitment_unit", "on_time_target", "first_response_value", "first_response_unit",
         "online_url")


@pytest.mark.parametrize("search", [
    {}, {"page": 2, "per_page": 7}, {"page": 999, "per_page": 7}, {"department_code": "dlh"},
    {"work_mode": "onsite", "lang": "en", "page": 3, "per_page": 5},
    {"department_code": "nope"}, {"query": "pengaduan", "per_page": 4, "page": 2},
    {"query": "cara bayar pajak motor"}, {"query": "xyzzy"},
    {"status": "no_data", "page": 2, "per_page": 9}, {"status": "meeting"},
])
def test_the_api_reads_the_pages_the_html_list_reads(demo_catalogue, search):
    listed, api = service_search_page(**search), service_facts_page(**search)
    assert (api.page.page, api.page.per_page, api.page.total) == (
        listed.page.page, listed.page.per_page, listed.page.total)
    assert (api.words, api.ignored, api.pointers) == (
        listed.words, listed.ignored, listed.pointers)
    assert [row.status for row in api.page.items] == [row.status for row in listed.page.items]
    # The HTML list reads the facts its cards show (ListedService's columns).
    shown = [name for name in FACTS if name in ListedService._fields]
    assert len(shown) == 9
    for row, html_row in zip(api.page.items, listed.page.items, strict=True):
        service = html_row.service
        assert [getattr(row.facts, name) for name in shown] == [
            getattr(service, name) for name in shown]
        assert (row.facts.department_code, row.facts.department_name_id,
                row.facts.department_name_en, row.facts.last_reported_at) == (
            service.department.code, service.department.name_id, service.department.name_en,
            None)
    if search.get("page") == 999:
        assert api.page.page == api.page.pages > 1  # past the last: the last


def test_one_services_facts_hold_its_department_and_last_report(app):
    department = create_department(code="dinkes", name_id="Dinas Kesehatan",
                                   name_en="Health Office")
    service = create_service(department=department, code="izin-klinik")
    reported = utc_now().replace(microsecond=0) - timedelta(hours=3)
    db.session.add(ServiceReport(service_id=service.id, last_reported_at=reported))
    db.session.commit()
    facts = service_facts("izin-klinik")
    assert (facts.id, facts.name_id, facts.department_code, facts.department_name_en,
            facts.last_reported_at) == (service.id, service.name_id, "dinkes", "Health Office",
                                        reported)
    assert service_facts("nope") is None


@pytest.fixture
def shown(app) -> dict[str, str]:
    """Services whose stored rows, reports and incidents give every shown status, by name:
    {code: the status a reader sees}."""
    now = utc_now()
    recently, long_ago = now - timedelta(days=1), now - timedelta(days=9)
    department = create_department()
    # code: (stored data status, last report, data status column filled, open incident)
    rows = {
        "akta": ("meeting", recently, True, False),
        "bea": ("breaching", recently, True, False),
        "cuti": ("meeting", long_ago, True, False),  # silent since: no data
        "dana": ("at_risk", recently, False, False),  # judged from its JSON
        "efek": ("meeting", recently, True, True),  # disrupted now
        "faskes": (None, None, False, False),  # never evaluated
        "gaji": ("insufficient_data", recently, False, False),
        "hibah": ("meeting", recently, False, False),
    }
    for code, (data_status, reported, column, incident) in rows.items():
        service = create_service(department=department, code=code, name_id=code.title())
        if data_status is not None:
            params = {"n": 12, "rate": 0.9, "target": 0.9, "data_status": data_status}
            db.session.add(ServiceStatus(
                service_id=service.id, status=data_status, computed_at=now,
                reason_params=json.dumps(params), metrics=json.dumps({"due": 12}),
                data_status=data_status if column else None))
        if reported is not None:
            db.session.add(ServiceReport(service_id=service.id, last_reported_at=reported))
        if incident:
            opened = Incident(title_id="Gangguan", impact="major", created_by="staf",
                              started_at=now - timedelta(hours=1))
            opened.services.append(service)
            db.session.add(opened)
    db.session.commit()
    return {"akta": "meeting", "bea": "breaching", "cuti": "no_data", "dana": "at_risk",
            "efek": "disrupted", "faskes": "no_data", "gaji": "insufficient_data",
            "hibah": "meeting"}


def test_a_status_filter_keeps_the_services_shown_with_that_status(shown):
    ids = dict(db.session.execute(select(Service.code, Service.id)).tuples().all())
    views = status_for_services(ids.values())
    assert {code: views[i].status for code, i in ids.items()} == shown
    for status in SERVICE_STATUSES:
        expected = [code for code in sorted(shown) if shown[code] == status]
        # The second page of one service each; the last one when there is only one.
        second = expected[1:2] or expected[:1]
        listed = service_search_page(status=status, per_page=1, page=2).page
        api = service_facts_page(status=status, per_page=1, page=2).page
        assert listed.total == api.total == len(expected), status
        assert [row.service.code for row in listed.items] == second, status
        assert [row.facts.code for row in api.items] == second, status
        assert [row.status for row in api.items] == [views[ids[code]] for code in second]
