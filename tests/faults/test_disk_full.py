"""The disk of attachments is full: the citizen is told, and nothing is half-written.

The upload folder is a small tmpfs of the test's own, nearly filled. A feedback with two
photos, the second of which no longer fits, must leave no feedback row, no attachment row
and no file (neither the first photo nor a partial second); the citizen gets the form back
with their text. Once space is freed, the same form is filed with both photos.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attachment, Feedback
from tests.factories import csrf_token_from
from tests.faults.support import REQUIRED, form_fields

SMALL_PHOTO_PIXELS = (60, 60)  # about 11 KB as a PNG: fits
LARGE_PHOTO_PIXELS = (300, 300)  # about 270 KB: does not fit
FREE_BYTES = 64 * 1024


def _noise_png(size: tuple[int, int]) -> bytes:
    """A PNG of random pixels (it does not compress: its size is about its pixels')."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def small_disk():
    """A 1 MB tmpfs, mounted for the test; skipped where mounting is not allowed."""
    mount = shutil.which("mount") or shutil.which("mount", path="/usr/sbin:/sbin:/bin")
    folder = Path(tempfile.mkdtemp(prefix="portal-faults-disk-"))
    result = subprocess.run(
        [mount or "mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(folder)],
        capture_output=True, text=True,
    ) if mount else None
    if result is None or result.returncode != 0:
        folder.rmdir()
        reason = ("a small tmpfs cannot be mounted here (needs root or CAP_SYS_ADMIN): "
                  f"{result.stderr.strip() if result else 'no mount command'}")
        if REQUIRED:
            pytest.fail(f"{reason}; PORTAL_REQUIRE_DEPLOY_TOOLS=1 makes this a failure")
        pytest.skip(reason)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


@pytest.fixture
def uploads(app, small_disk, monkeypatch):
    """The attachments folder on the small disk, filled up but for FREE_BYTES."""
    folder = small_disk / "uploads"
    folder.mkdir()
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(folder))
    stat = os.statvfs(small_disk)
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - FREE_BYTES))
    return folder, filler


def _stored() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Feedback)),
            db.session.scalar(select(func.count()).select_from(Attachment)))


def test_a_full_disk_keeps_nothing_half_written_and_gives_the_form_back(app, client, uploads):
    folder, filler = uploads
    small, large = _noise_png(SMALL_PHOTO_PIXELS), _noise_png(LARGE_PHOTO_PIXELS)
    assert len(small) < FREE_BYTES < len(large)
    page = client.get("/en/feedback/new").get_data(as_text=True)
    typed = {**form_fields(page), "kind": "complaint", "subject": "Jalan berlubang",
             "body": "Lubang besar di depan kantor camat, sudah dua bulan.",
             "identity": "normal", "name": "Budi", "email": "budi@example.com"}

    response = client.post("/en/feedback/new", content_type="multipart/form-data", data={
        **typed, "attachments": [(io.BytesIO(small), "lubang-1.png"),
                                 (io.BytesIO(large), "lubang-2.png")]})

    assert response.status_code == 503
    assert response.headers["Retry-After"]
    html = response.get_data(as_text=True)
    assert "Your feedback was not saved" in html
    assert "browsers forget chosen files: please choose them again" in html
    shown = form_fields(html)
    for name in ("subject", "body", "name", "email", "kind", "identity"):
        assert shown[name] == typed[name], name
    assert csrf_token_from(html)
    # Nothing half-written: no row, no file, not even the photo that fitted.
    assert _stored() == (0, 0)
    assert list(folder.iterdir()) == []

    # Space is freed: the form as the page shows it, with the photos chosen again, is filed.
    filler.unlink()
    again = client.post("/en/feedback/new", content_type="multipart/form-data", data={
        **shown, "attachments": [(io.BytesIO(small), "lubang-1.png"),
                                 (io.BytesIO(large), "lubang-2.png")]})
    assert again.status_code == 303, again.get_data(as_text=True)
    assert _stored() == (1, 2)
    assert len(list(folder.iterdir())) == 2
