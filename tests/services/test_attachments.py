"""PDF attachments lose their document information and XMP metadata, and keep their pages."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask_babel import force_locale
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from portal.extensions import db
from portal.models import Feedback
from portal.services.attachments import AttachmentRefused, attachment_prepare
from portal.services.errors import ValidationError
from portal.services.feedback.citizen import feedback_submit
from tests.feedback_support import create_triage_unit, valid_data

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Siti Aminah'
    b"</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)
PAGE_TEXTS = ["Jalan rusak di Jl. Tjilik Riwut", "Foto lubang kedua"]


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    """Attachments of these tests go to a temporary directory."""
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(path))
    return path


def _xmp_stream(writer: PdfWriter):
    stream = DecodedStreamObject()
    stream.set_data(XMP)
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return writer._add_object(stream)


def pdf_with_author(user_password: str | None = None, owner_password: str = "") -> bytes:
    """Return a two-page PDF with text, signed everywhere with its author's name."""
    writer = PdfWriter()
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })
    for text in PAGE_TEXTS:
        page = writer.add_blank_page(595, 842)
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})
        })
        page[NameObject("/Metadata")] = _xmp_stream(writer)
    writer.add_metadata({
        "/Author": "Siti Aminah",
        "/Creator": "Microsoft Word - Surat Siti Aminah",
        "/Producer": "Scanner Kantor Siti",
        "/Title": "Keluhan Siti Aminah",
        "/Subject": "NIK 6271012345670001",
        "/Keywords": "Siti Aminah, keluhan",
    })
    writer.root_object[NameObject("/Metadata")] = _xmp_stream(writer)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password=owner_password,
                       algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def assert_clean_with_pages(data: bytes) -> None:
    """The PDF opens, has no document information or XMP, and still shows both pages."""
    reader = PdfReader(io.BytesIO(data))
    assert not reader.is_encrypted
    assert not reader.metadata  # no Author, Creator, Producer, Title, Subject, Keywords
    assert reader.xmp_metadata is None
    assert all("/Metadata" not in page for page in reader.pages)
    assert [page.extract_text() for page in reader.pages] == PAGE_TEXTS
    assert [tuple(page.mediabox) for page in reader.pages] == [(0, 0, 595, 842)] * 2
    for trace in (b"Siti", b"Aminah", b"6271012345670001", b"Scanner", b"Microsoft"):
        assert trace not in data, trace


def test_the_test_pdf_really_carries_the_authors_name():
    reader = PdfReader(io.BytesIO(pdf_with_author()))
    assert reader.metadata["/Author"] == "Siti Aminah"
    assert reader.metadata["/Creator"] == "Microsoft Word - Surat Siti Aminah"
    assert reader.xmp_metadata.dc_creator == ["Siti Aminah"]


def test_a_stored_pdf_has_no_author_or_creator_and_keeps_its_pages(app, uploads):
    create_triage_unit()
    feedback = feedback_submit(
        valid_data(), "id", attachments=[("surat.pdf", pdf_with_author())])
    attachment = feedback.attachments[0]
    stored = (Path(uploads) / attachment.stored_name).read_bytes()
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(stored)
    assert_clean_with_pages(stored)


def test_a_pdf_only_restricted_by_an_owner_password_is_opened_and_cleaned(app):
    locked = pdf_with_author(user_password="", owner_password="pemilik")
    assert PdfReader(io.BytesIO(locked)).is_encrypted
    assert_clean_with_pages(attachment_prepare("surat.pdf", locked, 0).data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.7\nthis is not a PDF at all", id="damaged"),
        pytest.param(pdf_with_author(user_password="rahasia"), id="password"),
        pytest.param(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                     b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                     b"trailer<</Root 1 0 R>>\n%%EOF\n", id="no-pages"),
    ],
)
def test_a_pdf_that_cannot_be_read_is_refused_and_nothing_is_stored(app, uploads, data):
    create_triage_unit()
    with force_locale("en"), pytest.raises(ValidationError) as raised:
        feedback_submit(valid_data(), "id", attachments=[("surat.pdf", data)])
    assert [(e.field, e.error) for e in raised.value.errors] == [
        ("attachments", "“surat.pdf” could not be read as a PDF document.")]
    assert db.session.query(Feedback).count() == 0
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_the_refusal_names_the_attachment_by_its_position(app):
    with pytest.raises(AttachmentRefused) as refused:
        attachment_prepare("b.pdf", b"%PDF-1.4\n%%EOF\n", 1)
    assert refused.value.error.index == 1
