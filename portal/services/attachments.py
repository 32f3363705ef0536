"""Feedback attachments: recognised by content, stripped of metadata, stored privately.

A file is a JPEG, PNG or PDF because of its first bytes, never because of its name or the
browser's claimed type. Images are decoded and re-encoded from their pixels only, so EXIF
(including GPS position), XMP, comments and text chunks are all dropped; the EXIF orientation
is applied first so the photo still looks the right way up. PDFs are parsed and written
again without their document information (author, creator, producer, title, subject,
keywords) and XMP metadata, of the document or of its pages; their pages are kept.
Files go to ``PORTAL_UPLOAD_DIR`` (outside static/) under random names.
"""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PasswordType, PdfReader, PdfWriter

from portal.services.errors import FieldError

MAX_ATTACHMENTS = 3
# Messages say the limit in megabytes: the one number both come from.
MAX_ATTACHMENT_MEGABYTES = 5
MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_MEGABYTES * 1024 * 1024
# Refuse absurd image dimensions before decoding (decompression bombs).
MAX_IMAGE_PIXELS = 50_000_000
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


@dataclass(frozen=True)
class PreparedAttachment:
    """An upload that passed every check, ready to be written."""

    content_type: str
    data: bytes
    original_name: str


class AttachmentRefused(Exception):
    """An upload broke a rule; carries the field error to show."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(error.error)
        self.error = error


def sniff_content_type(data: bytes) -> str | None:
    """Return the type the content really is (JPEG, PNG or PDF), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _reencode_image(data: bytes, content_type: str) -> bytes:
    """Decode an image and write its pixels into a fresh file without any metadata."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ValueError("image too large")
        image.load()
        upright = ImageOps.exif_transpose(image) or image
        if content_type == "image/jpeg":
            mode = "L" if upright.mode in ("L", "1") else "RGB"
            clean = Image.new(mode, upright.size)
            clean.paste(upright.convert(mode))
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=88, optimize=True)
        else:
            mode = upright.mode if upright.mode in ("RGB", "RGBA", "L", "LA") else "RGBA"
            clean = Image.new(mode, upright.size)
            clean.paste(upright.convert(mode))
            out = io.BytesIO()
            clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _strip_pdf(data: bytes) -> bytes:
    """Write a PDF's pages again without document information or XMP metadata.

    Raises ValueError for a PDF that cannot be read: damaged, without pages, or locked by a
    password (an empty user password, which only restricts printing or copying, is opened).
    """
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise ValueError("PDF locked by a password")
    if len(reader.pages) == 0:
        raise ValueError("PDF without pages")
    # Cloning keeps what makes the document usable (links, outlines, form fields); the
    # output is written unencrypted.
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    writer.root_object.pop("/Metadata", None)
    for page in writer.pages:
        # Page-level XMP and the private data of the application that made the page.
        page.pop("/Metadata", None)
        page.pop("/PieceInfo", None)
    writer.root_object.pop("/PieceInfo", None)
    # The detached objects (the old information dictionary, XMP streams) would otherwise
    # still be written to the file.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attachment_prepare(original_name: str, data: bytes, index: int) -> PreparedAttachment:
    """Check one upload and clean it; raise AttachmentRefused when it breaks a rule."""
    name = os.path.basename((original_name or "").replace("\\", "/"))[:255]
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(
            FieldError("attachments", _("“%(name)s” is larger than %(size)d MB.", name=name,
                                        size=MAX_ATTACHMENT_MEGABYTES), index)
        )
    content_type = sniff_content_type(data)
    if content_type is None:
        raise AttachmentRefused(
            FieldError(
                "attachments",
                _("“%(name)s” is not a JPEG or PNG photo or a PDF document.", name=name),
                index,
            )
        )
    if content_type == "application/pdf":
        try:
            data = _strip_pdf(data)
        # pypdf reports a damaged file through many exception types (its own, but also
        # ValueError, KeyError, TypeError, RecursionError…): every one means "unreadable".
        except Exception:
            raise AttachmentRefused(
                FieldError(
                    "attachments",
                    _("“%(name)s” could not be read as a PDF document.", name=name),
                    index,
                )
            ) from None
    else:
        try:
            data = _reencode_image(data, content_type)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
            raise AttachmentRefused(
                FieldError(
                    "attachments",
                    _("“%(name)s” could not be read as a photo.", name=name),
                    index,
                )
            ) from None
    return PreparedAttachment(content_type=content_type, data=data, original_name=name)


def upload_dir() -> Path:
    """Return the private directory of attachments, creating it if needed."""
    path = Path(current_app.config["PORTAL_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_store(prepared: PreparedAttachment) -> tuple[str, int]:
    """Write a prepared attachment under a new random name; return (name, size)."""
    stored_name = secrets.token_hex(16) + _EXTENSIONS[prepared.content_type]
    path = upload_dir() / stored_name
    # "x": never overwrite, even in the astronomically unlikely case of a repeated name.
    with open(path, "xb") as stream:
        stream.write(prepared.data)
    return stored_name, len(prepared.data)


def attachment_path(stored_name: str) -> Path:
    """Return the file of a stored attachment (for staff downloads)."""
    return upload_dir() / os.path.basename(stored_name)


def attachment_discard(stored_names: list[str]) -> None:
    """Remove files written for a change that was rolled back."""
    for name in stored_names:
        try:
            attachment_path(name).unlink()
        except FileNotFoundError:
            pass
