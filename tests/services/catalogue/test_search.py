"""Search finds the words people use, ranked, a page at a time; pointers say where else to go.

Run against the demo catalogue (its names, texts and keywords as a province would write them).
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from portal.domain.search import query_words, search_text
from portal.extensions import db
from portal.models import Service
from portal.services.catalogue.directory import catalogue_import_file
from portal.services.catalogue.pointers import pointer_import_file
from portal.services.catalogue.search import MAX_PER_PAGE, service_search_page
from portal.services.demo.load import DEMO_CATALOGUE, DEMO_POINTERS


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
