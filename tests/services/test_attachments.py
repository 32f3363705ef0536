"""Attachments: PDFs lose their document information and XMP metadata and keep their pages;
photos lose every metadata, and no photo can make a worker hold more than its pixel budget."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from flask_babel import force_locale
from PIL import Image, ImageCms, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from portal.extensions import db
from portal.models import Feedback
from portal.services.attachments import AttachmentRefused, attachment_prepare
from portal.services.errors import ValidationError
from portal.services.feedback.citizen import feedback_submit
from tests.feedback_support import create_triage_unit, valid_data

ROOT = Path(__file__).resolve().parents[2]

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


# Photos: metadata ----------------------------------------------------------------------------


def test_a_png_loses_its_text_chunks_icc_profile_and_exif_and_keeps_its_pixels(app):
    original = Image.new("RGBA", (6, 4), (10, 120, 200, 128))
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Siti Aminah")
    text.add_itxt("Description", "Rumah Siti Aminah, Jl. Tjilik Riwut", zip=True)
    exif = Image.Exif()
    exif[0x010F] = "KameraMerek"  # Make
    out = io.BytesIO()
    original.save(out, format="PNG", pnginfo=text, exif=exif,
                  icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    assert b"Siti" in out.getvalue() and b"KameraMerek" in out.getvalue()

    cleaned = attachment_prepare("denah.png", out.getvalue(), 0).data

    for trace in (b"Siti", b"KameraMerek", b"iCCP", b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert trace not in cleaned, trace
    with Image.open(io.BytesIO(cleaned)) as image:
        assert (image.mode, image.size) == ("RGBA", (6, 4))
        assert image.getpixel((5, 3)) == (10, 120, 200, 128)


def test_a_palette_png_keeps_its_transparent_colour(app):
    original = Image.new("P", (4, 4), 1)
    original.putpalette([255, 255, 255, 200, 0, 0])
    original.putpixel((0, 0), 0)
    out = io.BytesIO()
    original.save(out, format="PNG", transparency=0)

    with Image.open(io.BytesIO(attachment_prepare("peta.png", out.getvalue(), 0).data)) as image:
        rgba = image.convert("RGBA")
        assert rgba.getpixel((0, 0))[3] == 0  # the transparent corner stays transparent
        assert rgba.getpixel((3, 3)) == (200, 0, 0, 255)


def test_a_jpeg_loses_its_comment_and_is_turned_upright(app):
    # 40 wide, 30 high, taken with the phone on its side: EXIF orientation 6 says "turn the
    # picture a quarter clockwise to show it".
    original = Image.new("RGB", (40, 30), (200, 30, 30))
    original.paste((30, 30, 200), (0, 0, 10, 10))  # blue top-left corner as stored
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    original.save(out, format="JPEG", exif=exif, comment=b"Rumah Siti Aminah", quality=95)
    assert b"Siti" in out.getvalue()

    cleaned = attachment_prepare("IMG_2001.jpg", out.getvalue(), 0).data

    assert b"Siti" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.size == (30, 40)
        assert dict(image.getexif()) == {}
        # Turned a quarter clockwise, the stored top-left corner is now the top-right one.
        red, green, blue = image.getpixel((25, 4))
        assert blue > 150 and red < 100


def test_a_cmyk_jpeg_from_a_scanner_is_kept_as_rgb(app):
    out = io.BytesIO()
    Image.new("CMYK", (8, 6), (0, 255, 255, 0)).save(out, format="JPEG", quality=95)

    with Image.open(io.BytesIO(attachment_prepare("scan.jpg", out.getvalue(), 0).data)) as image:
        assert (image.mode, image.size) == ("RGB", (8, 6))
        red, green, blue = image.getpixel((4, 3))  # no cyan, full magenta and yellow: red
        assert red > 200 and green < 60 and blue < 60


# Photos: the pixel budget --------------------------------------------------------------------


def flat_png(width: int, height: int, colour: tuple[int, int, int] = (40, 90, 160)) -> bytes:
    """Return a PNG of one colour written row by row: tiny on disk, huge once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    rows = (b"\0" + bytes(colour) * width) * 100  # filter byte "none", then the pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(rows) for _ in range(height // 100))
    idat += compressor.compress((b"\0" + bytes(colour) * width) * (height % 100))
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


# Runs in a fresh interpreter, so that its peak memory is the attachments' alone: reads
# the files, notes the peak so far, prepares each with the real service, notes the peak.
_MEASURE = """
import io, json, resource, sys
from flask_babel import force_locale
from PIL import Image
from portal import create_app
from portal.services.attachments import AttachmentRefused, attachment_prepare

def peak_mb():
    # VmHWM is this program's own high-water mark: ru_maxrss also counts the parent's
    # memory at the fork that started it (a pytest worker's hundreds of MB).
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "memory-test"})
uploads = [(path.rsplit("/", 1)[-1], open(path, "rb").read()) for path in sys.argv[1:]]
results = []
with app.app_context(), force_locale("en"):
    before = peak_mb()
    for index, (name, data) in enumerate(uploads):
        try:
            prepared = attachment_prepare(name, data, index)
        except AttachmentRefused as refused:
            results.append(refused.error.error)
        else:
            with Image.open(io.BytesIO(prepared.data)) as image:
                results.append(list(image.size))
    print(json.dumps({"before": before, "peak": peak_mb(), "results": results}))
"""


def _prepare_measuring_memory(paths: list[Path]) -> tuple[list, float, float]:
    """Prepare files in a fresh interpreter; return its results, its peak memory in MB
    before the first file and after the last."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *map(str, paths)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return measured["results"], measured["before"], measured["peak"]


def test_the_test_pngs_are_real_flat_pictures_tiny_on_disk():
    with Image.open(io.BytesIO(flat_png(301, 250))) as small:
        assert (small.mode, small.size) == ("RGB", (301, 250))
        assert small.getcolors() == [(301 * 250, (40, 90, 160))]
    data = flat_png(7000, 7000)
    assert len(data) < 300_000
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (7000, 7000)


def test_three_photos_of_49_megapixels_are_refused_without_decoding_them(tmp_path):
    data = flat_png(7000, 7000)
    paths = [tmp_path / f"foto-{n}.png" for n in (1, 2, 3)]
    for path in paths:
        path.write_bytes(data)

    results, before, peak = _prepare_measuring_memory(paths)

    assert results == [
        f"“foto-{n}.png” has more than 25 megapixels: send a smaller photo." for n in (1, 2, 3)]
    # One of them decoded would take 196 MB (49 million pixels of 4 bytes).
    assert peak - before < 20
    assert peak < 200


def test_a_photo_at_the_pixel_budget_is_kept_and_costs_about_its_pixels(tmp_path):
    path = tmp_path / "denah.png"
    path.write_bytes(flat_png(5000, 5000))  # 25 megapixels exactly

    results, before, peak = _prepare_measuring_memory([path])

    assert results == [[5000, 5000]]
    # 25 million pixels of 4 bytes are 100 MB; the old cleaning held four copies.
    assert peak - before < 150


def test_a_larger_baseline_jpeg_is_decoded_at_half_size_and_a_progressive_one_refused(
    tmp_path,
):
    photo = Image.new("RGB", (7000, 7000), (120, 160, 60))
    baseline, progressive = tmp_path / "sawah.jpg", tmp_path / "sawah-web.jpg"
    photo.save(baseline, format="JPEG", quality=50)
    photo.save(progressive, format="JPEG", quality=50, progressive=True)
    del photo

    results, before, peak = _prepare_measuring_memory([baseline, progressive])

    # Half of each side is the largest reduction within 25 megapixels: 3500 x 3500 = 12.25.
    assert results == [
        [3500, 3500],
        "“sawah-web.jpg” has more than 12 megapixels: send a smaller photo.",
    ]
    # At full size the pixels alone would take 196 MB; at half size they take 49 MB.
    assert peak - before < 100


def test_a_photo_beyond_the_budget_is_refused_and_nothing_is_stored(app, uploads):
    create_triage_unit()
    with force_locale("en"), pytest.raises(ValidationError) as raised:
        feedback_submit(valid_data(), "id", attachments=[
            ("jalan.jpg", jpeg_of(40, 30)), ("poster.png", flat_png(6000, 4500))])
    assert [(e.field, e.error, e.index) for e in raised.value.errors] == [
        ("attachments", "“poster.png” has more than 25 megapixels: send a smaller photo.", 1)]
    assert db.session.query(Feedback).count() == 0
    assert not uploads.exists() or list(uploads.iterdir()) == []


def jpeg_of(width: int, height: int) -> bytes:
    """Return a small baseline JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 90)).save(out, format="JPEG")
    return out.getvalue()
