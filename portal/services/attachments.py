"""Feedback attachments: recognised by content, stripped of metadata, stored privately.

A file is a JPEG, PNG or PDF because of its first bytes, never because of its name or the
browser's claimed type. Images are decoded and re-encoded from their pixels only, so EXIF
(including GPS position), XMP, comments and text chunks are all dropped; the EXIF orientation
is applied first so the photo still looks the right way up. A photo's size is read from its
header before any pixel is decoded: beyond a pixel budget it is refused, or, for a baseline
JPEG, decoded at a reduced scale, so no upload can make a worker hold gigabytes of pixels.
PDFs are parsed and written again without their document information (author, creator,
producer, title, subject, keywords) and XMP metadata, of the document or of its pages; their
pages are kept.
Files go to ``PORTAL_UPLOAD_DIR`` (outside static/) under random names.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PasswordType, PdfReader, PdfWriter

from portal.services.errors import FieldError, StorageUnavailable

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 3
# Messages say the limit in megabytes: the one number both come from.
MAX_ATTACHMENT_MEGABYTES = 5
MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_MEGABYTES * 1024 * 1024
# The pixel budget of one photo (megapixels), checked in its header before any pixel is
# decoded. Pillow keeps a decoded pixel in 4 bytes (RGB as RGBX), so a photo within the
# budget holds about 100 MB while it is cleaned. Refusals say this number.
MAX_IMAGE_MEGAPIXELS = 25
# Photos that cost more memory a pixel have a smaller budget: a progressive JPEG also holds
# every DCT coefficient of the full image while it decodes (up to 6 bytes a pixel, whatever
# the scale it is decoded at), and a CMYK JPEG is converted to RGB, a second copy.
MAX_COSTLY_IMAGE_MEGAPIXELS = 12
# A baseline JPEG decoder scales by 1/2, 1/4 or 1/8 while it decodes (DCT scaling): a larger
# baseline JPEG is kept at the largest of these scales within the budget, and its full-size
# pixels are never held. PNG cannot be decoded smaller: beyond the budget it is refused.
_JPEG_DECODER_SCALES = (2, 4, 8)
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# The modes a PNG decodes to that are written back as they are.
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})


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


class _TooManyPixels(Exception):
    """An image's header says it has more pixels than its budget allows to decode."""

    def __init__(self, megapixels: int) -> None:
        super().__init__(f"more than {megapixels} megapixels")
        self.megapixels = megapixels


def _open_within_budget(data: bytes, content_type: str) -> Image.Image:
    """Open an image, read only its header, and set it to decode within its pixel budget.

    A baseline JPEG beyond the budget is set to decode at a reduced scale when one brings it
    within the budget; anything else beyond its budget raises _TooManyPixels before a pixel
    is decoded.
    """
    try:
        # Only the header is read here, the pixels on load(); only the format the first bytes
        # named is tried.
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[content_type]])
    except Image.DecompressionBombError:  # beyond Pillow's own, wider, limit
        raise _TooManyPixels(MAX_IMAGE_MEGAPIXELS) from None
    # Phones write portrait-mode photos as MPO: a JPEG carrying further images.
    is_jpeg = image.format in ("JPEG", "MPO")
    progressive = is_jpeg and bool(image.info.get("progressive"))
    megapixels = (
        MAX_COSTLY_IMAGE_MEGAPIXELS if progressive or (is_jpeg and image.mode == "CMYK")
        else MAX_IMAGE_MEGAPIXELS
    )
    budget = megapixels * 1_000_000
    width, height = image.size
    if width * height <= budget:
        return image
    if is_jpeg and not progressive:
        for scale in _JPEG_DECODER_SCALES:
            if -(-width // scale) * -(-height // scale) <= budget:
                image.draft(image.mode, (max(1, width // scale), max(1, height // scale)))
                if image.size[0] * image.size[1] <= budget:
                    return image
                break
    image.close()
    raise _TooManyPixels(megapixels)


def _reencode_image(data: bytes, content_type: str) -> bytes:
    """Decode an image and write its pixels into a fresh file without any metadata.

    Raises _TooManyPixels for an image beyond its pixel budget. The pixels are held once (a
    CMYK JPEG twice, while it becomes RGB): the image is turned upright in place and saved in
    the mode it decoded to.
    """
    with _open_within_budget(data, content_type) as image:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        # A palette's transparent colours are part of the picture, not metadata.
        transparency = image.info.get("transparency")
        # Everything else that came with the pixels goes: EXIF, XMP, ICC profile, comments,
        # text chunks, DPI (the savers write only what they are given and what info holds).
        image.info = {}
        out = io.BytesIO()
        if content_type == "image/jpeg":
            clean = image if image.mode in ("L", "RGB") else image.convert("RGB")
            # Not optimize=True: optimised Huffman tables need every coefficient of the image
            # held at once (about 70 MB more at the budget) to save a few percent of the file.
            clean.save(out, format="JPEG", quality=88)
        elif image.mode in _PNG_MODES:
            options = {} if transparency is None or image.mode in ("LA", "RGBA") else {
                "transparency": transparency}
            image.save(out, format="PNG", optimize=True, **options)
        else:
            image.convert("RGBA").save(out, format="PNG", optimize=True)
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
        except _TooManyPixels as refused:
            raise AttachmentRefused(
                FieldError(
                    "attachments",
                    _("“%(name)s” has more than %(megapixels)d megapixels: send a smaller "
                      "photo.", name=name, megapixels=refused.megapixels),
                    index,
                )
            ) from None
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
    """Write a prepared attachment under a new random name; return (name, size).

    The file is on disk (flushed and synced) when this returns, so the caller commits its
    row only after the file is safe. Should the disk refuse it (full, failing, read-only),
    the partial file is removed and StorageUnavailable raised: nothing is half-written.
    """
    stored_name = secrets.token_hex(16) + _EXTENSIONS[prepared.content_type]
    created: Path | None = None
    try:
        path = upload_dir() / stored_name
        # "x": never overwrite, even in the astronomically unlikely case of a repeated name.
        with open(path, "xb") as stream:
            created = path
            stream.write(prepared.data)
            stream.flush()
            os.fsync(stream.fileno())  # a full disk may only say so when the data is synced
    except OSError as error:
        if created is not None:
            created.unlink(missing_ok=True)
        log.warning("attachment not stored: %s (errno %s)", type(error).__name__, error.errno)
        raise StorageUnavailable(stored_name) from error
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
