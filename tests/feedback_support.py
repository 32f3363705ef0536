"""Helpers shared by the feedback tests: valid input, a triage unit, test images, SMTP sink."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from aiosmtpd.controller import Controller
from PIL import Image

from portal.domain.calendar import WIB
from tests.factories import create_department

# Friday 15 August 2025, 10:00 WIB: Sunday 17 August is Independence Day and Monday 18
# August is cuti bersama, so the working days after it are 19, 20, 21, 22, 25... August.
FRIDAY_15_AUG = datetime(2025, 8, 15, 10, 0, tzinfo=WIB)

IDENTITY = {"name": "Siti Rahmawati", "email": "siti.rahma@example.com", "phone": "0812 3456 7890"}


def valid_data(**overrides: Any) -> dict[str, Any]:
    """Return a valid feedback submission (API keys), with overrides."""
    data: dict[str, Any] = {
        "kind": "complaint",
        "service": None,
        "subject": "Antrean terlalu panjang",
        "body": "Saya menunggu tiga jam di loket pelayanan.",
        "regency": "kapuas",
        "name": "",
        "email": "",
        "phone": "",
        "anonymous": False,
        "confidential": False,
        "publish": False,
    }
    data.update(overrides)
    return data


def create_triage_unit(**overrides: Any):
    """Create the province's complaint-management unit."""
    values = {"code": "ulp", "name_id": "Unit Layanan Pengaduan", "name_en": "Complaints Unit",
              "is_triage_unit": True}
    values.update(overrides)
    return create_department(**values)


def jpeg_with_exif(size: tuple[int, int] = (40, 30)) -> bytes:
    """Return a JPEG carrying EXIF with a GPS position and a camera maker."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "KameraMerek"  # Make
    exif[0x8825] = {1: "S", 2: (2.0, 12.0, 30.0), 3: "E", 4: (113.0, 55.0, 10.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_bytes() -> bytes:
    """Return a small PNG."""
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


# A real one-page PDF: uploads are parsed (to strip their document information).
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)


class SmtpSink:
    """Collects every message an aiosmtpd server on loopback receives."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", "replace"),
        })
        return "250 OK"


def start_smtp(port: int) -> tuple[Controller, SmtpSink]:
    """Start a real SMTP server on 127.0.0.1:port."""
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, sink
