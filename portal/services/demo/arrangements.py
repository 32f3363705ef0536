"""Demo WFA arrangements: most departments publish one, a few leave it unpublished.

Examples for testing, not official documents: the titles and numbers follow the usual form of
a provincial department head's decree, the texts the kind of arrangement the DPRD asks for.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.arrangements import WfaArrangement
from portal.models.catalogue import Department

# What a department declares, by kind of arrangement: (Indonesian, English) for each text.
_TEXTS = {
    "yes": {
        "supervision": (
            "Atasan langsung menetapkan target kerja harian dan memeriksa capaiannya setiap sore "
            "melalui aplikasi kinerja; rapat daring koordinasi setiap Senin pukul 08.00 WIB.",
            "Line managers set daily work targets and check them every afternoon in the "
            "performance app; an online coordination meeting every Monday at 08.00 WIB.",
        ),
        "reporting": (
            "Setiap ASN mengisi laporan kerja harian di e-Kinerja sebelum pukul 16.00 WIB; "
            "rekap mingguan dikirim kepada Kepala Dinas setiap Jumat.",
            "Every civil servant files a daily work report in e-Kinerja before 16.00 WIB; a "
            "weekly summary goes to the head of the department every Friday.",
        ),
        "it_systems": (
            "e-Kinerja, surel dinas, SRIKANDI (naskah dinas elektronik), VPN kantor dan aplikasi "
            "layanan daring dinas.",
            "e-Kinerja, official e-mail, SRIKANDI (electronic official documents), the office "
            "VPN and the department's online service applications.",
        ),
    },
    "pilot": {
        "supervision": (
            "Uji coba pada bidang yang ditunjuk: kepala bidang memantau kehadiran daring dan "
            "capaian kerja setiap hari; evaluasi uji coba setiap bulan.",
            "A pilot in designated divisions: division heads follow online attendance and work "
            "output daily; the pilot is evaluated monthly.",
        ),
        "reporting": (
            "Laporan kerja harian di e-Kinerja dan laporan mingguan uji coba kepada Sekretaris.",
            "Daily work reports in e-Kinerja and a weekly pilot report to the secretary.",
        ),
        "it_systems": (
            "e-Kinerja, surel dinas dan rapat daring; layanan loket tetap dilayani di kantor.",
            "e-Kinerja, official e-mail and online meetings; counter services stay in the office.",
        ),
    },
    "no": {
        "supervision": (
            "Seluruh pegawai bekerja di kantor atau di unit layanan; pengawasan langsung oleh "
            "atasan.",
            "All staff work at the office or service unit, supervised in person.",
        ),
        "reporting": (
            "Laporan kerja harian di e-Kinerja.",
            "Daily work reports in e-Kinerja.",
        ),
        "it_systems": (
            "Sistem informasi layanan di kantor.",
            "The service information systems at the office.",
        ),
    },
}

# (department code, kind, share working remotely in %, in effect from, decree number);
# departments not listed have not published their arrangement.
_VERSIONS = (
    ("bapenda", "pilot", 15, date(2026, 5, 4), "973/112/Bapenda/2026"),
    ("bapenda", "yes", 30, date(2026, 7, 1), "973/164/Bapenda/2026"),
    ("dpmptsp", "pilot", 20, date(2026, 5, 18), "503/071/DPMPTSP/2026"),
    ("dpmptsp", "yes", 45, date(2026, 6, 15), "503/098/DPMPTSP/2026"),
    ("diskominfosantik", "yes", 50, date(2026, 6, 1), "800/210/Diskominfosantik/2026"),
    ("bkd", "yes", 40, date(2026, 6, 1), "800/145/BKD/2026"),
    ("biro-organisasi", "yes", 35, date(2026, 6, 8), "061/033/Org/2026"),
    ("disnakertrans", "pilot", 20, date(2026, 7, 1), "560/121/Disnakertrans/2026"),
    ("dinkes", "pilot", 10, date(2026, 7, 15), "440/301/Dinkes/2026"),
    ("disdik", "pilot", 15, date(2026, 7, 1), "420/512/Disdik/2026"),
    ("dinsos", "pilot", 10, date(2026, 7, 1), "460/088/Dinsos/2026"),
    ("dlh", "yes", 30, date(2026, 7, 1), "660/077/DLH/2026"),
    ("dishub", "pilot", 10, date(2026, 7, 1), "550/140/Dishub/2026"),
    ("dpupr", "pilot", 15, date(2026, 7, 1), "600/233/DPUPR/2026"),
    ("desdm", "yes", 30, date(2026, 7, 1), "500/061/DESDM/2026"),
    ("dishut", "pilot", 10, date(2026, 7, 1), "522/095/Dishut/2026"),
    ("dp3appkb", "pilot", 15, date(2026, 7, 1), "463/052/DP3APPKB/2026"),
    ("disdukcapil", "yes", 25, date(2026, 7, 1), "470/066/Disdukcapil/2026"),
    ("inspektorat", "pilot", 10, date(2026, 7, 1), "700/041/Inspektorat/2026"),
    ("bpbd", "no", 0, date(2026, 7, 1), "360/090/BPBD/2026"),
    ("rsud-doris-sylvanus", "no", 0, date(2026, 7, 1), "445/702/RSUD-DS/2026"),
    ("rsj-kalawa-atei", "no", 0, date(2026, 7, 1), "445/311/RSJ/2026"),
)


def demo_arrangements_load() -> int:
    """Publish the demo arrangements of departments that have none yet; return how many."""
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    published = set(db.session.scalars(select(WfaArrangement.department_id).distinct()))
    added = 0
    for code, kind, share, since, number in _VERSIONS:
        department = departments.get(code)
        if department is None or department.id in published:
            continue
        texts = _TEXTS[kind]
        db.session.add(WfaArrangement(
            department_id=department.id, effective_from=since, wfa_applies=kind,
            remote_share_percent=share,
            legal_basis_title=f"Keputusan Kepala {department.name_id} tentang Pelaksanaan "
                              "Tugas Kedinasan secara Fleksibel (Work From Anywhere)",
            legal_basis_number=number, legal_basis_date=since,
            supervision_id=texts["supervision"][0], supervision_en=texts["supervision"][1],
            reporting_id=texts["reporting"][0], reporting_en=texts["reporting"][1],
            it_systems_id=texts["it_systems"][0], it_systems_en=texts["it_systems"][1],
            recorded_at=utc_now(), recorded_by="demo",
        ))
        added += 1
    db.session.commit()
    return added
