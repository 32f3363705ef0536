"""The plain list of services (no search words, no status filter) in name order, a page at a time.

The database orders and pages it on the services' stored sort keys (Service.name_key_id /
name_key_en); what people see must stay the order Python's sorted() gives the names casefolded
(the English name, or the Indonesian one standing in for it), ties by id, on SQLite and
PostgreSQL alike: code points, not a locale's collation ("é" after "z", "ß" as "ss").
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Service
from portal.services.catalogue.directory import REQUIRED_COLUMNS, catalogue_import_file
from portal.services.catalogue.search import MAX_PER_PAGE, service_search_page

# (department, code, Indonesian name, English name or "" when missing, work mode), imported in
# this order (ids rising): mixed case, accents, "ß", names equal once casefolded.
SERVICES = [
    ("dlh", "zebra", "Zebra", "", "onsite"),
    ("dlh", "zeta", "zeta", "Alpha", "wfa"),
    ("dlh", "ekspor-e", "Ékspor", "Export", "hybrid"),
    ("bpd", "ea", "éa", "", "wfa"),
    ("bpd", "eszett", "ß", "Straße", "onsite"),
    ("bpd", "apel-besar", "Apel", "apple", "wfa"),
    ("dlh", "apel-kecil", "apel", "Apple", "wfa"),
    ("bpd", "izin", "Izin Usaha", "", "hybrid"),
    ("dlh", "ekspor", "ekspor", "Exports", "onsite"),
    ("bpd", "strasse-besar", "Straße", "", "wfa"),
    ("dlh", "strasse-kecil", "strasse", "", "onsite"),
]
DEPARTMENT_NAMES = {"dlh": ("Dinas Lingkungan Hidup", "Environment Office"),
                    "bpd": ("Badan Pendapatan Daerah", "Regional Revenue Agency")}


def catalogue_csv(services: list[tuple[str, str, str, str, str]]) -> str:
    """Write services as the catalogue import's file (its required columns only)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REQUIRED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for department, code, name_id, name_en, mode in services:
        writer.writerow({
            "department_code": department,
            "department_name_id": DEPARTMENT_NAMES[department][0],
            "department_name_en": DEPARTMENT_NAMES[department][1],
            "service_code": code, "service_name_id": name_id, "service_name_en": name_en,
            "work_mode": mode, "work_mode_since": "", "commitment_value": "5",
            "commitment_unit": "working_days", "on_time_target": "", "online_url": "",
        })
    return out.getvalue()


@pytest.fixture
def catalogue(app):
    summary = catalogue_import_file(catalogue_csv(SERVICES))
    assert summary.services_created == len(SERVICES)


def python_order(lang: str = "id", department: str = "", mode: str = "") -> list[str]:
    """Return the services' codes in the order Python gives their names casefolded, ties by id.

    Computed apart from the stored keys: what the list showed when it sorted in Python.
    """
    services = [s for s in db.session.scalars(select(Service))
                if (not department or s.department.code == department)
                and (not mode or s.work_mode == mode)]

    def key(service: Service) -> tuple[str, int]:
        name = (service.name_en or service.name_id) if lang == "en" else service.name_id
        return name.casefold(), service.id

    return [s.code for s in sorted(services, key=key)]


def listed(lang: str = "id", per_page: int = MAX_PER_PAGE, **filters) -> list[str]:
    """Return the codes of the plain list, every page walked through its next links."""
    codes: list[str] = []
    page: int | None = 1
    while page is not None:
        found = service_search_page(page=page, per_page=per_page, lang=lang, **filters).page
        codes += [row.service.code for row in found.items]
        page = found.next_num
    return codes


def test_the_list_is_in_casefold_code_point_order_in_both_languages(catalogue):
    # "é" (U+00E9) comes after "z"; "ß" is "ss"; "Apel" and "apel" tie (the first imported
    # first); three names are "strasse" once casefolded.
    assert listed("id") == [
        "apel-besar", "apel-kecil", "ekspor", "izin", "eszett", "strasse-besar",
        "strasse-kecil", "zebra", "zeta", "ea", "ekspor-e"]
    # English: the Indonesian name stands in for a missing English one ("Zebra", "éa").
    assert listed("en") == [
        "zeta", "apel-besar", "apel-kecil", "ekspor-e", "ekspor", "izin", "eszett",
        "strasse-besar", "strasse-kecil", "zebra", "ea"]
    assert listed("id") == python_order("id")
    assert listed("en") == python_order("en")


def test_pages_cover_the_list_once_with_their_totals_and_links(catalogue):
    whole = python_order("en")
    for page in (1, 2, 3, 4):
        found = service_search_page(page=page, per_page=3, lang="en").page
        assert [row.service.code for row in found.items] == whole[(page - 1) * 3: page * 3]
        assert (found.page, found.total, found.pages) == (page, 11, 4)
        assert found.prev_num == (page - 1 if page > 1 else None)
        assert found.next_num == (page + 1 if page < 4 else None)
    # Past the last page (and before the first): the last page, and the first.
    last = service_search_page(page=99, per_page=3, lang="en").page
    assert ([row.service.code for row in last.items], last.page, last.total) == (
        whole[9:], 4, 11)
    assert (last.has_next, last.prev_num) == (False, 3)
    first = service_search_page(page=0, per_page=3, lang="en").page
    assert ([row.service.code for row in first.items], first.page) == (whole[:3], 1)


def test_department_and_work_mode_filters_keep_the_name_order(catalogue):
    for lang in ("id", "en"):
        for filters in ({"department": "bpd"}, {"mode": "wfa"},
                        {"department": "dlh", "mode": "onsite"}):
            expected = python_order(lang, **filters)
            assert expected, filters
            codes = listed(lang, per_page=2, department_code=filters.get("department", ""),
                           work_mode=filters.get("mode", ""))
            assert codes == expected, (lang, filters)
    found = service_search_page(department_code="bpd", work_mode="wfa", page=7, per_page=2).page
    assert (found.total, found.page, found.pages) == (3, 2, 2)
    assert [row.service.code for row in found.items] == python_order(
        "id", department="bpd", mode="wfa")[2:]
    # An unknown work mode filters nothing, as before.
    assert listed("id", work_mode="bogus") == python_order("id")


def test_a_list_with_no_service_has_one_empty_page(catalogue):
    found = service_search_page(department_code="nowhere", page=5).page
    assert (found.items, found.page, found.total, found.pages) == ([], 1, 0, 0)
    assert (found.has_prev, found.has_next) == (False, False)


def test_a_renamed_service_takes_its_new_place(catalogue):
    # Through the catalogue import: "Zebra" becomes "Aardvark", and gets an English name.
    renamed = [row if row[1] != "zebra" else ("dlh", "zebra", "Aardvark", "Ant", "onsite")
               for row in SERVICES]
    summary = catalogue_import_file(catalogue_csv(renamed))
    assert summary.services_updated == 1
    assert listed("id")[0] == "zebra"
    assert listed("en")[:2] == ["zeta", "zebra"]  # "alpha" < "ant"
    # Through the ORM: an English name taken away (the Indonesian one stands in), a name
    # changed to one past every Latin letter ("Ω" casefolds to "ω", U+03C9).
    db.session.scalar(select(Service).where(Service.code == "zeta")).name_en = ""
    db.session.scalar(select(Service).where(Service.code == "izin")).name_id = "Ωmega"
    db.session.commit()
    assert listed("id")[-1] == "izin"
    assert listed("en")[-3:] == ["zeta", "ea", "izin"]  # "zeta" < "éa" < "ωmega"
    for lang in ("id", "en"):
        assert listed(lang) == python_order(lang)
        assert listed(lang, per_page=4) == python_order(lang)


def test_a_status_filter_without_words_keeps_the_name_order(catalogue):
    shown = {row.service.code: row.status.status
             for row in service_search_page(per_page=MAX_PER_PAGE).page.items}
    status = max(set(shown.values()), key=list(shown.values()).count)
    for lang in ("id", "en"):
        found = service_search_page(status=status, per_page=MAX_PER_PAGE, lang=lang).page
        assert [row.service.code for row in found.items] == [
            code for code in python_order(lang) if shown[code] == status]


def test_a_longest_name_whose_casefold_is_longer_is_stored_and_listed(app):
    # "ß" casefolds to "ss": a name of the longest length the import takes (300 characters)
    # makes a longer key, which the key column must hold (PostgreSQL refuses what does not fit).
    longest = "Layanan Straße " + "ß" * 285
    assert len(longest) == 300 and len(longest.casefold()) > 300
    summary = catalogue_import_file(catalogue_csv([("dlh", "panjang", longest, "", "wfa")]))
    assert summary.services_created == 1
    stored = db.session.scalar(select(Service).where(Service.code == "panjang"))
    assert stored.name_key_id == longest.casefold() == stored.name_key_en
    assert listed("id") == ["panjang"]
