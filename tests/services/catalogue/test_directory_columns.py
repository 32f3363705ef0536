"""Catalogue import of the directory columns: DPRD commission, where to go, search keywords;
and the pointers to services the province does not provide."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.models import Department, Service, ServicePointer
from portal.services.catalogue.directory import catalogue_import_file
from portal.services.catalogue.pointers import pointer_import_file
from portal.services.demo.load import DEMO_CATALOGUE, DEMO_POINTERS
from portal.services.errors import ValidationError

BASE = ["department_code", "department_name_id", "department_name_en", "service_code",
        "service_name_id", "service_name_en", "work_mode", "work_mode_since",
        "commitment_value", "commitment_unit", "on_time_target", "online_url"]


def _row(service: str = "samsat-pkb", department: str = "bapenda", **extra: str) -> dict:
    return {
        "department_code": department, "department_name_id": "Badan Pendapatan Daerah",
        "department_name_en": "Regional Revenue Agency", "service_code": service,
        "service_name_id": "Pembayaran PKB", "service_name_en": "Vehicle tax payment",
        "work_mode": "onsite", "work_mode_since": "", "commitment_value": "1",
        "commitment_unit": "hours", "on_time_target": "", "online_url": "", **extra,
    }


def _csv(*rows: dict) -> str:
    header = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _department(code: str = "bapenda") -> Department:
    return db.session.scalar(select(Department).where(Department.code == code))


def _service(code: str) -> Service:
    return db.session.scalar(select(Service).where(Service.code == code))


def _errors(text: str, importer=catalogue_import_file) -> list[tuple[int | None, str]]:
    """Return (line, column) of each problem the import finds (messages are translated)."""
    with pytest.raises(ValidationError) as caught:
        importer(text)
    return [(e.index, e.field) for e in caught.value.errors]


def test_import_stores_the_commission_short_name_and_office_of_a_department(app):
    office = {"department_short_name": "Bapenda", "dprd_commission": "ii",
              "department_address": "Jl. Tjilik Riwut Km 1, Palangka Raya",
              "department_phone": "(0536) 3221443", "department_latitude": "-2.2011",
              "department_longitude": "113.9047", "department_hours_id": "Senin–Jumat",
              "department_hours_en": "Monday–Friday"}
    catalogue_import_file(_csv(_row(**office), _row("samsat-bbn", **office)))

    bapenda = _department()
    assert bapenda.dprd_commission == "II"  # written in either case, stored in capitals
    assert (bapenda.short_name, bapenda.phone) == ("Bapenda", "(0536) 3221443")
    assert (bapenda.latitude, bapenda.longitude) == (-2.2011, 113.9047)
    assert (bapenda.hours_id, bapenda.hours_en) == ("Senin–Jumat", "Monday–Friday")


def test_an_empty_commission_is_none_and_a_file_without_the_column_keeps_it(app):
    catalogue_import_file(_csv(_row(dprd_commission="I")))
    catalogue_import_file(_csv(_row()))  # no dprd_commission column at all
    assert _department().dprd_commission == "I"

    summary = catalogue_import_file(_csv(_row(dprd_commission="")))
    assert _department().dprd_commission is None
    assert summary.departments_updated == 1


def test_a_commission_outside_i_to_iv_is_a_line_error_and_nothing_is_written(app):
    errors = _errors(_csv(_row(dprd_commission="II"), _row("samsat-bbn", dprd_commission="V",
                                                          department="dinkes")))
    assert errors == [(3, "dprd_commission")]
    assert db.session.scalar(select(Department)) is None


def test_rows_of_one_department_must_agree_on_its_columns(app):
    errors = _errors(_csv(_row(dprd_commission="II"), _row("samsat-bbn", dprd_commission="III")))
    assert errors == [(3, "dprd_commission")]


@pytest.mark.parametrize(("extra", "field"), [
    ({"latitude": "-2.2", "longitude": ""}, "longitude"),
    ({"latitude": "-95", "longitude": "113.9"}, "latitude"),
    ({"latitude": "-2.2", "longitude": "east"}, "longitude"),
    ({"phone": "call us"}, "phone"),
    ({"department_phone": "12"}, "department_phone"),
    ({"address": "x" * 501}, "address"),
    ({"keywords_id": "x" * 5001}, "keywords_id"),
])
def test_where_to_go_columns_are_checked(app, extra, field):
    assert _errors(_csv(_row(**extra))) == [(2, field)]


def test_a_bad_row_is_reported_in_english_on_english_pages(app):
    with app.test_request_context("/en/"), force_locale("en"):
        with pytest.raises(ValidationError) as caught:
            catalogue_import_file(_csv(_row(dprd_commission="V")))
    assert caught.value.errors[0].error == "must be I, II, III or IV, or empty"


def test_a_service_keeps_its_own_office_keywords_and_is_found_by_them(app):
    catalogue_import_file(_csv(_row(
        keywords_id="pelat nomor, pajak motor", keywords_en="road tax",
        address="Kantor Samsat, Jl. Tjilik Riwut Km 3,5", phone="+62 536 3226015",
        latitude="-2.1921", longitude="113.8957",
    )))
    service = _service("samsat-pkb")
    assert (service.keywords_id, service.keywords_en) == ("pelat nomor, pajak motor", "road tax")
    assert (service.address, service.latitude) == ("Kantor Samsat, Jl. Tjilik Riwut Km 3,5",
                                                   -2.1921)
    assert " pelat " in service.search_names and " road " in service.search_names

    # Keywords removed at the next import no longer find it.
    catalogue_import_file(_csv(_row(keywords_id="", keywords_en="")))
    assert " pelat " not in _service("samsat-pkb").search_names


def test_the_demo_catalogue_assigns_every_department_a_commission():
    with DEMO_CATALOGUE.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    commission = {row["department_code"]: row["dprd_commission"] for row in rows}
    assert set(commission.values()) == {"I", "II", "III", "IV"}
    # DOMAIN.md: I government/law/apparatus, II economy/finance/revenue, III welfare,
    # IV development.
    assert {code: commission[code] for code in (
        "inspektorat", "biro-hukum", "bkd", "bapenda", "dpmptsp", "dinkes", "disdik", "dinsos",
        "dpupr", "dishub", "dlh")} == {
        "inspektorat": "I", "biro-hukum": "I", "bkd": "I", "bapenda": "II", "dpmptsp": "II",
        "dinkes": "III", "disdik": "III", "dinsos": "III", "dpupr": "IV", "dishub": "IV",
        "dlh": "IV"}
    inspektorat = [row for row in rows if row["department_code"] == "inspektorat"]
    assert inspektorat[0]["department_name_id"] == "Inspektorat Daerah Provinsi Kalimantan Tengah"
    assert any("Pengaduan Masyarakat" in row["service_name_id"] for row in inspektorat)
    # Every department says where its office is.
    assert all(row["department_address"] and row["department_latitude"] for row in rows)


def test_the_demo_catalogue_and_pointers_import_cleanly(app):
    catalogue_import_file(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    pointer_import_file(DEMO_POINTERS.read_text(encoding="utf-8"))
    assert _department("inspektorat").dprd_commission == "I"
    codes = set(db.session.scalars(select(ServicePointer.code)))
    assert "adminduk-ktp-kk-akta" in codes


POINTER_HEADER = "code,topic_id,topic_en,where_id,where_en,url,keywords_id,keywords_en\n"
KTP = ('ktp,KTP-el,Identity card,Disdukcapil kabupaten/kota,Regency or city Disdukcapil,'
       'https://dukcapil.kemendagri.go.id,"ktp, e-ktp",id card\n')
SIM = "sim,SIM,Driving licence,Polres,The police,,sim,driving licence\n"


def test_pointer_import_replaces_the_list_by_code(app):
    summary = pointer_import_file(POINTER_HEADER + KTP + SIM)
    assert (summary.created, summary.removed) == (2, 0)
    ktp = db.session.scalar(select(ServicePointer).where(ServicePointer.code == "ktp"))
    assert (ktp.where_en, ktp.url) == ("Regency or city Disdukcapil",
                                       "https://dukcapil.kemendagri.go.id")
    assert " ektp " in ktp.search_names and " card " in ktp.search_names

    summary = pointer_import_file(POINTER_HEADER + KTP.replace("Identity card", "ID card"))
    assert (summary.created, summary.updated, summary.removed) == (0, 1, 1)
    assert set(db.session.scalars(select(ServicePointer.code))) == {"ktp"}


def test_pointer_import_checks_every_row_and_writes_nothing_on_error(app):
    bad = (POINTER_HEADER + KTP + "ktp,Again,,Somewhere,,,,\n"
           + "Bad Code,X,,Y,,,,\n" + "kk,Kartu Keluarga,,,,ftp://x,,\n")
    errors = _errors(bad, importer=pointer_import_file)
    assert errors == [(3, "code"), (4, "code"), (5, "where_id"), (5, "url")]
    assert db.session.scalar(select(ServicePointer)) is None
    assert _errors("code,topic_id,where\n", importer=pointer_import_file) == [
        (1, "header"), (1, "header")]


def test_cli_imports_the_pointers_with_the_catalogue_or_nothing(runner, tmp_path: Path):
    catalogue = tmp_path / "katalog.csv"
    catalogue.write_text(_csv(_row(dprd_commission="II")), encoding="utf-8")
    pointers = tmp_path / "pointers.csv"
    pointers.write_text(POINTER_HEADER + "ktp,KTP-el,,,,,,\n", encoding="utf-8")

    result = runner.invoke(args=["catalogue", "import", str(catalogue), "--pointers",
                                 str(pointers)])
    assert result.exit_code == 1
    assert "line 2: where_id" in result.output
    assert db.session.scalar(select(Department)) is None  # the catalogue was not imported either

    pointers.write_text(POINTER_HEADER + KTP, encoding="utf-8")
    result = runner.invoke(args=["catalogue", "import", str(catalogue), "--pointers",
                                 str(pointers)])
    assert result.exit_code == 0, result.output
    assert "pointers: 1 created" in result.output
    assert _department().dprd_commission == "II"
    assert db.session.scalar(select(ServicePointer.code)) == "ktp"
