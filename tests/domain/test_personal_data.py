"""Personal data in free text: the one rule of docs/definitions.md (Privacy), worked by hand."""

from __future__ import annotations

import pytest

from portal.domain.personal_data import (
    EMAIL,
    ID_NUMBER,
    PHONE,
    REDACTED,
    REPORTER_EMAIL,
    REPORTER_NAME,
    REPORTER_PHONE,
    deidentify,
    find_personal_data,
    mentions_reporter,
)

REPORTER = {"reporter_name": "Siti Rahmawati", "reporter_email": "siti.rahma@example.com",
            "reporter_phone": "0812 3456 7890"}


def found(text: str, **reporter: str) -> list[tuple[str, str]]:
    """Return (kind, the text found) for each piece of personal data in text."""
    return [(m.kind, text[m.start:m.end]) for m in find_personal_data(text, **reporter)]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        pytest.param("Hubungi 0812.3456.7890 ya", "0812.3456.7890", id="dotted"),
        pytest.param("Hubungi 0812 3456 7890 ya", "0812 3456 7890", id="spaced"),
        pytest.param("Hubungi 0812-3456-7890 ya", "0812-3456-7890", id="dashed"),
        pytest.param("Hubungi 081234567890 ya", "081234567890", id="no-separators"),
        pytest.param("Kantor (0536) 322-1234 ya", "(0536) 322-1234", id="bracketed-area-code"),
        pytest.param("Hubungi +62 812 3456 7890 ya", "+62 812 3456 7890", id="plus-62"),
        pytest.param("Hubungi 62-812-3456-7890 ya", "62-812-3456-7890", id="62-dashed"),
        pytest.param(
            "Hubungi (+62) 812-3456-7890 ya", "(+62) 812-3456-7890", id="plus-62-bracketed"
        ),
        pytest.param("Telepon 021 555 1234 ya", "021 555 1234", id="landline"),
        # 0 followed by 8 digits, the shortest the rule allows.
        pytest.param("Telepon 021 555 123 ya", "021 555 123", id="shortest"),
        # 0 followed by 13 digits, the longest.
        pytest.param("Hubungi 0812 3456 7890 12 ya", "0812 3456 7890 12", id="longest"),
        # Digits typed on a phone keyboard in full width.
        pytest.param(
            "Hubungi ０８１２３４５６７８９０ ya", "０８１２３４５６７８９０", id="full-width"
        ),
    ],
)
def test_indonesian_phone_numbers_in_every_written_form(text, number):
    assert found(text) == [(PHONE, number)]
    assert deidentify(text) == text.replace(number, REDACTED)


@pytest.mark.parametrize(
    "text",
    [
        "NIK 6271.0123.4567.0001 sudah",
        "NIK 6271 0123 4567 0001 sudah",
        "KK 6271-0123-4567-0001 sudah",
        "NIK 6271012345670001 sudah",
        # Starting with 0 or 62 does not make 16 digits a phone number.
        "KK 0812 3456 7890 1234 sudah",
        "NIK 62-71-0123-4567-0001 sudah",
    ],
)
def test_sixteen_digits_are_a_nik_or_kk_number_never_a_phone(text):
    number = text.split(" ", 1)[1].rsplit(" ", 1)[0]
    assert found(text) == [(ID_NUMBER, number)]
    assert deidentify(text) == f"{text.split(' ')[0]} {REDACTED} sudah"


@pytest.mark.parametrize(
    "text",
    [
        # 0 followed by 7 digits: too short.
        "Nomor 021 555 12",
        # 0 followed by 14 digits (15 in all): too long for a phone, too short for a NIK.
        "Nomor 081234567890123",
        # 17 digits.
        "Nomor 62710123456700012",
        # Another country's number is not an Indonesian phone number.
        "Call +44 20 7946 0958",
    ],
)
def test_numbers_outside_the_rule_are_not_phone_or_id_numbers(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Jadwal ulang pada 2026-12-01 pukul 08.00.",
        "Datang pada 05.08.2025 10.00 WIB",
        "on 12.05.2025 at 10.00",
        "Datang 01-12-2026 08.30",
        "Biaya Rp 1.500.000 tanpa pungutan lain",
        "Anggaran Rp 62.500.000.000 untuk jalan",
        "Anggaran Rp. 12.000.000.000,- untuk jalan",
        "Saya menunggu 3 jam pada 15 Agustus 2025 di loket 12.",
        "Buka 07.30 - 16.00, istirahat 12.00-13.00",
        "waited 3 hours at counter 12",
    ],
)
def test_dates_times_amounts_and_small_numbers_are_not_personal_data(text):
    assert found(text) == []
    assert deidentify(text) == text


def test_thousands_of_an_amount_are_never_the_start_of_a_number():
    # Without "Rp": 12.000.000.000 is one number starting with 1, not 000.000.000 (0 + 8 digits).
    assert found("dana 12.000.000.000 cair") == []


def test_a_sentence_ending_after_a_phone_number_does_not_join_the_next_number():
    text = "Hubungi 0812.3456.7890. 62 orang menunggu."
    assert found(text) == [(PHONE, "0812.3456.7890")]
    assert deidentify(text) == f"Hubungi {REDACTED}. 62 orang menunggu."


def test_a_phone_number_after_a_small_number_is_still_found():
    assert found("loket 2 0812 3456 7890") == [(PHONE, "0812 3456 7890")]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Kirim ke budi@example.co.id ya", "budi@example.co.id"),
        ("Kirim ke budi.santoso+aduan@gmail.com.", "budi.santoso+aduan@gmail.com"),
        ("(surel: dinas_kesehatan@kalteng.go.id)", "dinas_kesehatan@kalteng.go.id"),
    ],
)
def test_email_addresses(text, address):
    assert found(text) == [(EMAIL, address)]
    assert deidentify(text) == text.replace(address, REDACTED)


def test_an_address_made_of_a_phone_number_is_one_piece_of_data():
    assert found("WA 08123456789@gmail.com") == [(EMAIL, "08123456789@gmail.com")]


def test_several_pieces_are_each_replaced():
    text = "HP 0812-3456-7890 atau +62 811 222 333, NIK 6271.0123.4567.0001, a@b.id"
    assert deidentify(text) == f"HP {REDACTED} atau {REDACTED}, NIK {REDACTED}, {REDACTED}"


def test_the_reporters_name_whatever_the_case_and_only_as_whole_words():
    text = "Ibu SITI rahmawati datang. Sitirahmawati bukan dia; Siti saja juga bukan."
    assert found(text, **REPORTER) == [(REPORTER_NAME, "SITI rahmawati")]
    assert deidentify(text, **REPORTER) == (
        f"Ibu {REDACTED} datang. Sitirahmawati bukan dia; Siti saja juga bukan.")


def test_the_reporters_name_with_or_without_accents_and_with_other_spacing():
    assert found("Pak Jose  Ramos datang", reporter_name="José Ramos") == [
        (REPORTER_NAME, "Jose  Ramos")]
    assert found("Pak JOSÉ RAMOS datang", reporter_name="Jose Ramos") == [
        (REPORTER_NAME, "JOSÉ RAMOS")]


def test_the_reporters_email_whatever_the_case():
    text = "Balasan ke SITI.RAHMA@Example.com sudah."
    assert found(text, **REPORTER) == [(REPORTER_EMAIL, "SITI.RAHMA@Example.com")]
    # Another address is still an e-mail address, just not the reporter's.
    assert found("ke budi@example.com", **REPORTER) == [(EMAIL, "budi@example.com")]


@pytest.mark.parametrize(
    "written",
    ["0812 3456 7890", "0812.3456.7890", "081234567890", "+62 812-3456-7890",
     "62 812 3456 7890", "(0812) 3456 7890"],
)
def test_the_reporters_phone_with_any_separators_or_country_code(written):
    text = f"Kami menelepon {written} kemarin."
    assert found(text, **REPORTER) == [(REPORTER_PHONE, written)]
    assert deidentify(text, **REPORTER) == f"Kami menelepon {REDACTED} kemarin."


def test_the_reporters_phone_given_with_the_country_code_matches_the_national_form():
    assert found("telp 0812 3456 7890", reporter_phone="+62 812 3456 7890") == [
        (REPORTER_PHONE, "0812 3456 7890")]


def test_the_reporters_phone_is_found_even_where_it_would_not_be_a_phone_number():
    # A 7-digit local number without its area code is the reporter's, though not 0 + 8 digits.
    assert found("telp 322 1234 kantor", reporter_phone="322-1234") == [
        (REPORTER_PHONE, "322 1234")]


def test_mentions_reporter_only_for_the_reporters_own_data():
    assert mentions_reporter("Terima kasih Ibu Siti Rahmawati.", **REPORTER)
    assert mentions_reporter("Dikirim ke siti.rahma@example.com", **REPORTER)
    assert mentions_reporter("Kami menelepon 0812-3456-7890", **REPORTER)
    # Personal data, but somebody else's: a warning elsewhere, not a mention of the reporter.
    assert not mentions_reporter("Hubungi 0811 2222 3333 atau budi@example.com", **REPORTER)
    assert not mentions_reporter("Terima kasih Ibu Siti Rahmawati.")


def test_empty_texts_and_identities():
    assert find_personal_data("") == []
    assert deidentify("") == ""
    assert found("Ibu Siti", reporter_name="  ", reporter_email="", reporter_phone="") == []
