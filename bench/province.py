"""Build a province-scale portal: ~1,000 services in ~40 departments with 3 years of requests.

Usage (from the repository root; the default size takes about 15 minutes on 2 cores):

    .venv/bin/python -m bench.province [--services 1000] [--departments 40] [--years 3]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_province]
    .venv/bin/python -m bench.province --drop        # drop the scratch database

Steps, each printed with its time:
1. drop and create the scratch database (its name must start with "bench", on loopback;
   SQLite: a new file) and upgrade it with the migrations (``flask db upgrade``);
2. write the catalogue as the import's CSV: departments of the province and of its regencies,
   services with their standard texts, commitments in working days or hours, first-response
   promises, online channels, and about 60% of them moved to hybrid or WFA on a dated day;
   load it with ``flask catalogue import``; a second file moves a quarter of the hybrid
   services on to WFA later, so their histories have two dated steps;
3. give each department an API token and report every request received from the first day
   to yesterday through ``POST /api/v1/service-requests`` of a gunicorn on loopback
   (2 workers), department by department and day by day, in reports of 5,000 (the API's
   limit): the reporting API does the deadlines, the daily aggregates and the statuses.
   It prints the ingest rate end to end, and per CPU second of the gunicorn workers and of
   the workers and the database's backends together (read from /proc: steadier than the
   wall rate on a shared machine, though contention inflates CPU time too);
4. file the province's feedback over the same years (``--feedback`` items a year per
   service on average, busier services more) and handle it as departments do: answered,
   mostly on time, resolved, some published at the reporter's request, some left open
   (bench/feedback_history.py: the citizen's and the staff's services, in process);
5. run ``flask status refresh`` (the 10-minute job) and print what was built.

Deterministic: the same seed, size and WIB date give the same data at any time of the day,
since the history stops at the start of today (WIB): nothing is received, answered or
completed after that. Volumes are skewed as in a real province (a few busy counters, many
quiet services): a median service receives about one request a working day, the average
about two, so 1,000 services receive about 1.6 million requests in 3 years.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import queue
import random
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.feedback_history import feedback_history
from bench.support import (
    DEFAULT_DATABASE_URL,
    DatabaseCpu,
    cpu_seconds,
    database_drop,
    database_recreate,
    gunicorn,
    portal_env,
    run_flask,
)
from portal import create_app
from portal.domain.calendar import WIB, WorkingCalendar, utc_now, wib_date
from portal.extensions import db
from portal.services.auth import CLI_OPERATOR
from portal.services.metrics.tokens import token_create

BATCH = 5000  # the reporting API's limit per report
DEFAULT_SEED = 20260601

# (code, name in Indonesian, name in English, topic in Indonesian, topic in English)
DEPARTMENTS = [
    ("dinkes", "Dinas Kesehatan", "Health Office", "kesehatan", "health"),
    ("disdik", "Dinas Pendidikan", "Education Office", "pendidikan", "education"),
    ("disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil",
     "Population and Civil Registration Office", "kependudukan", "civil registration"),
    ("bapenda", "Badan Pendapatan Daerah", "Regional Revenue Agency", "pajak daerah",
     "regional tax"),
    ("dpmptsp", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
     "Investment and One-Stop Service Office", "perizinan usaha", "business licensing"),
    ("dishub", "Dinas Perhubungan", "Transport Office", "perhubungan", "transport"),
    ("dinsos", "Dinas Sosial", "Social Affairs Office", "kesejahteraan sosial",
     "social welfare"),
    ("disnakertrans", "Dinas Tenaga Kerja dan Transmigrasi",
     "Manpower and Transmigration Office", "ketenagakerjaan", "employment"),
    ("dpupr", "Dinas Pekerjaan Umum dan Penataan Ruang",
     "Public Works and Spatial Planning Office", "tata ruang", "spatial planning"),
    ("dlh", "Dinas Lingkungan Hidup", "Environment Office", "lingkungan hidup",
     "environmental"),
    ("dishut", "Dinas Kehutanan", "Forestry Office", "kehutanan", "forestry"),
    ("disbun", "Dinas Perkebunan", "Plantation Office", "perkebunan", "plantation"),
    ("distanak", "Dinas Tanaman Pangan, Hortikultura dan Peternakan",
     "Food Crops, Horticulture and Livestock Office", "pertanian", "farming"),
    ("dkp", "Dinas Kelautan dan Perikanan", "Marine Affairs and Fisheries Office", "perikanan",
     "fisheries"),
    ("desdm", "Dinas Energi dan Sumber Daya Mineral", "Energy and Mineral Resources Office",
     "pertambangan", "mining"),
    ("disperindag", "Dinas Perindustrian dan Perdagangan", "Industry and Trade Office",
     "perdagangan", "trade"),
    ("diskop", "Dinas Koperasi dan Usaha Kecil Menengah",
     "Cooperatives and Small Business Office", "koperasi", "cooperative"),
    ("disbudpar", "Dinas Kebudayaan dan Pariwisata", "Culture and Tourism Office",
     "pariwisata", "tourism"),
    ("dispora", "Dinas Pemuda dan Olahraga", "Youth and Sports Office", "keolahragaan",
     "sports"),
    ("disperkim", "Dinas Perumahan Rakyat dan Kawasan Permukiman",
     "Housing and Settlements Office", "perumahan", "housing"),
    ("diskominfo", "Dinas Komunikasi, Informatika, Persandian dan Statistik",
     "Communication, Informatics, Cryptography and Statistics Office", "informasi publik",
     "public information"),
    ("dispursip", "Dinas Perpustakaan dan Kearsipan", "Library and Archives Office",
     "kearsipan", "archives"),
    ("dp3a", "Dinas Pemberdayaan Perempuan dan Perlindungan Anak",
     "Women's Empowerment and Child Protection Office", "perlindungan anak",
     "child protection"),
    ("dpmd", "Dinas Pemberdayaan Masyarakat dan Desa", "Community and Village Empowerment Office",
     "pemerintahan desa", "village governance"),
    ("dkpangan", "Dinas Ketahanan Pangan", "Food Security Office", "pangan", "food"),
    ("bkd", "Badan Kepegawaian Daerah", "Regional Civil Service Agency", "kepegawaian",
     "civil service"),
    ("bpbd", "Badan Penanggulangan Bencana Daerah", "Regional Disaster Management Agency",
     "kebencanaan", "disaster"),
    ("kesbangpol", "Badan Kesatuan Bangsa dan Politik", "National Unity and Politics Agency",
     "organisasi kemasyarakatan", "civil society organisation"),
    ("satpolpp", "Satuan Polisi Pamong Praja", "Civil Service Police Unit", "ketertiban umum",
     "public order"),
    ("rsud-doris", "RSUD dr. Doris Sylvanus", "dr. Doris Sylvanus Regional Hospital",
     "rumah sakit", "hospital"),
    ("rsj-kalawa", "RSJ Kalawa Atei", "Kalawa Atei Mental Hospital", "kesehatan jiwa",
     "mental health"),
    ("biro-hukum", "Biro Hukum Sekretariat Daerah", "Legal Bureau of the Regional Secretariat",
     "produk hukum", "legal"),
    ("inspektorat", "Inspektorat Daerah", "Regional Inspectorate", "pengawasan",
     "oversight"),
    ("bpkad", "Badan Pengelolaan Keuangan dan Aset Daerah",
     "Regional Finance and Asset Agency", "aset daerah", "regional asset"),
    ("bappeda", "Badan Perencanaan Pembangunan Daerah", "Regional Development Planning Agency",
     "perencanaan", "planning"),
    ("brida", "Badan Riset dan Inovasi Daerah", "Regional Research and Innovation Agency",
     "penelitian", "research"),
    ("samsat", "UPT Sistem Administrasi Manunggal Satu Atap", "One-Roof Vehicle Registration Unit",
     "kendaraan bermotor", "motor vehicle"),
    ("uptd-labkes", "UPTD Laboratorium Kesehatan Daerah", "Regional Health Laboratory",
     "laboratorium", "laboratory"),
    ("uptd-balai-latihan", "UPTD Balai Latihan Kerja", "Vocational Training Centre",
     "pelatihan kerja", "vocational training"),
    ("uptd-metrologi", "UPTD Metrologi Legal", "Legal Metrology Unit", "tera ulang",
     "weights and measures"),
]
# (key, name in Indonesian, name in English): the province's regencies and its city.
REGIONS = [
    ("plk", "Kota Palangka Raya", "Palangka Raya City"),
    ("kobar", "Kabupaten Kotawaringin Barat", "West Kotawaringin Regency"),
    ("kotim", "Kabupaten Kotawaringin Timur", "East Kotawaringin Regency"),
    ("kapuas", "Kabupaten Kapuas", "Kapuas Regency"),
    ("barsel", "Kabupaten Barito Selatan", "South Barito Regency"),
    ("barut", "Kabupaten Barito Utara", "North Barito Regency"),
    ("sukamara", "Kabupaten Sukamara", "Sukamara Regency"),
    ("lamandau", "Kabupaten Lamandau", "Lamandau Regency"),
    ("seruyan", "Kabupaten Seruyan", "Seruyan Regency"),
    ("katingan", "Kabupaten Katingan", "Katingan Regency"),
    ("pulpis", "Kabupaten Pulang Pisau", "Pulang Pisau Regency"),
    ("gumas", "Kabupaten Gunung Mas", "Gunung Mas Regency"),
    ("bartim", "Kabupaten Barito Timur", "East Barito Regency"),
    ("mura", "Kabupaten Murung Raya", "Murung Raya Regency"),
]
# (key, name in Indonesian, name in English, product in Indonesian, product in English)
SERVICE_KINDS = [
    ("izin", "Penerbitan izin {t}", "Issuing {t} permits", "Surat izin {t}", "A {t} permit"),
    ("perpanjangan", "Perpanjangan izin {t}", "Renewing {t} permits",
     "Surat izin {t} yang diperpanjang", "A renewed {t} permit"),
    ("rekomendasi", "Rekomendasi teknis {t}", "{T} technical recommendations",
     "Surat rekomendasi teknis", "A technical recommendation letter"),
    ("legalisasi", "Legalisasi dokumen {t}", "Legalising {t} documents",
     "Dokumen yang dilegalisasi", "A legalised document"),
    ("data", "Permohonan data dan informasi {t}", "Requests for {t} data and information",
     "Data atau salinan informasi", "Data or a copy of the information"),
    ("konsultasi", "Konsultasi {t}", "{T} consultations", "Catatan konsultasi",
     "A consultation record"),
    ("verifikasi", "Verifikasi dan validasi data {t}", "Verifying {t} data",
     "Berita acara verifikasi", "A verification report"),
    ("keterangan", "Penerbitan surat keterangan {t}", "Issuing {t} certificates",
     "Surat keterangan", "A certificate"),
    ("pendaftaran", "Pendaftaran {t}", "{T} registration", "Tanda bukti pendaftaran",
     "A proof of registration"),
    ("sertifikasi", "Sertifikasi {t}", "{T} certification", "Sertifikat", "A certificate"),
    ("pengaduan", "Penanganan pengaduan {t}", "Handling {t} complaints",
     "Jawaban tertulis atas pengaduan", "A written answer to the complaint"),
    ("bimtek", "Bimbingan teknis {t}", "{T} technical guidance", "Laporan bimbingan teknis",
     "A guidance report"),
]
REQUIREMENTS = [
    ("Surat permohonan yang ditandatangani pemohon", "An application letter signed by the "
     "applicant"),
    ("Fotokopi KTP elektronik pemohon", "A copy of the applicant's electronic identity card"),
    ("Fotokopi Kartu Keluarga", "A copy of the family card"),
    ("Nomor Induk Berusaha (NIB)", "The business identification number (NIB)"),
    ("Surat kuasa bermeterai bila dikuasakan", "A stamped power of attorney when represented"),
    ("Pas foto berwarna ukuran 3x4 sebanyak dua lembar", "Two colour photographs, 3x4 cm"),
    ("Dokumen teknis sesuai jenis permohonan", "The technical documents the request needs"),
    ("Bukti pembayaran retribusi bila dikenakan", "Proof of payment of the levy, if any"),
]
MOVED_SHARE = 0.62
HOURS_SHARE = 0.15


@dataclass(frozen=True)
class DepartmentSpec:
    """One department of the generated province."""

    code: str
    name_id: str
    name_en: str
    topic_id: str
    topic_en: str


@dataclass
class ServiceSpec:
    """One generated service: its catalogue row and how its requests behave."""

    department: DepartmentSpec
    code: str
    name_id: str
    name_en: str
    commitment_value: int
    commitment_unit: str
    on_time_target: float
    first_response: tuple[int, str] | None
    online_url: str
    texts: dict[str, str]
    # (work mode, since) in order; empty: on-site throughout.
    moves: list[tuple[str, date]] = field(default_factory=list)
    volume: float = 1.0  # mean requests per working day
    on_time_before: float = 0.9
    on_time_after: float = 0.9
    online_share: float = 0.3


def _departments(count: int) -> list[DepartmentSpec]:
    """Return the first count departments of the province (numbered beyond the list)."""
    out = []
    for i in range(count):
        code, name_id, name_en, topic_id, topic_en = DEPARTMENTS[i % len(DEPARTMENTS)]
        if i >= len(DEPARTMENTS):
            n = i // len(DEPARTMENTS) + 1
            code, name_id, name_en = f"{code}-{n}", f"{name_id} {n}", f"{name_en} {n}"
        out.append(DepartmentSpec(code, name_id, name_en, topic_id, topic_en))
    return out


def _shares(total: int, weights: list[float]) -> list[int]:
    """Split total into whole parts proportional to weights, each at least 1 (largest rest)."""
    base = [1] * len(weights)
    rest = total - len(weights)
    scaled = [w / sum(weights) * rest for w in weights]
    parts = [b + int(s) for b, s in zip(base, scaled, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: scaled[i] - int(scaled[i]), reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _texts(rng: random.Random, kind: tuple, dept: DepartmentSpec, hours_based: bool,
           cost: bool) -> dict[str, str]:
    """Write a service's published standard (requirements, procedure, cost, product, hours)."""
    chosen = [REQUIREMENTS[0], REQUIREMENTS[1]] + rng.sample(REQUIREMENTS[2:], rng.randint(1, 4))
    product_id = kind[3].format(t=dept.topic_id)
    product_en = kind[4].format(t=dept.topic_en)
    return {
        "requirements_id": " ".join(f"{i}. {r[0]}." for i, r in enumerate(chosen, 1)),
        "requirements_en": " ".join(f"{i}. {r[1]}." for i, r in enumerate(chosen, 1)),
        "procedure_id": "1. Pemohon mengajukan permohonan di loket atau melalui laman layanan. "
                        "2. Petugas memeriksa kelengkapan berkas. 3. Berkas diverifikasi dan "
                        "diproses oleh bidang teknis. 4. Pejabat berwenang menandatangani. "
                        "5. Hasil layanan diserahkan kepada pemohon.",
        "procedure_en": "1. The applicant applies at the counter or on the service's website. "
                        "2. Staff check that the file is complete. 3. The technical division "
                        "verifies and processes it. 4. The authorised official signs. "
                        "5. The result is handed to the applicant.",
        "cost_id": "Sesuai Peraturan Daerah tentang Retribusi Daerah." if cost
        else "Tidak dipungut biaya.",
        "cost_en": "As set by the regional regulation on levies." if cost else "Free of charge.",
        "product_id": product_id,
        "product_en": product_en,
        "hours_id": "Setiap hari, 24 jam." if hours_based
        else "Senin–Kamis 08.00–15.30 WIB, Jumat 08.00–11.00 WIB.",
        "hours_en": "Every day, round the clock." if hours_based
        else "Monday–Thursday 08:00–15:30 WIB, Friday 08:00–11:00 WIB.",
    }


def province_plan(n_services: int, n_departments: int, first_day: date, last_day: date,
                  seed: int, volume: float = 1.0) -> list[ServiceSpec]:
    """Draw the province's departments and services, and how each behaves."""
    rng = random.Random(f"{seed}:catalogue")
    departments = _departments(n_departments)
    counts = _shares(n_services, [rng.lognormvariate(0, 0.6) for _ in departments])
    span = (last_day - first_day).days
    services: list[ServiceSpec] = []
    for dept, count in zip(departments, counts, strict=True):
        combos = [(k, r) for r in REGIONS for k in SERVICE_KINDS]
        rng.shuffle(combos)
        for i in range(count):
            kind, region = combos[i % len(combos)]
            suffix = f"-{i // len(combos) + 1}" if i >= len(combos) else ""
            hours_based = rng.random() < HOURS_SHARE
            topic_en = dept.topic_en
            name_en = kind[2].format(t=topic_en, T=topic_en[:1].upper() + topic_en[1:])
            service = ServiceSpec(
                department=dept,
                code=f"{dept.code}-{kind[0]}-{region[0]}{suffix}",
                name_id=f"{kind[1].format(t=dept.topic_id)}, {region[1]}{suffix}",
                name_en=f"{name_en}, {region[2]}{suffix}",
                commitment_value=rng.choice([2, 4, 8, 24, 48]) if hours_based
                else rng.choices([1, 3, 5, 7, 10, 14], [2, 4, 5, 3, 2, 1])[0],
                commitment_unit="hours" if hours_based else "working_days",
                on_time_target=rng.choice([0.8, 0.85, 0.9, 0.9, 0.9, 0.95]),
                first_response=None if rng.random() < 0.5 else (
                    (1, "hours") if hours_based else (1, "working_days")),
                online_url=f"https://{dept.code}.layanan.invalid/{kind[0]}-{region[0]}"
                if rng.random() < 0.5 else "",
                texts=_texts(rng, kind, dept, hours_based, cost=rng.random() < 0.3),
            )
            # Volumes are skewed: a median of 0.9 a working day, some counters far busier.
            service.volume = min(60.0, rng.lognormvariate(math.log(0.9), 1.0)) * volume * (
                3 if hours_based else 1)
            service.on_time_before = rng.uniform(0.70, 0.98)
            service.on_time_after = service.on_time_before
            service.online_share = rng.uniform(0.4, 0.9) if service.online_url else (
                rng.uniform(0.0, 0.1))
            if rng.random() < MOVED_SHARE:
                draw = rng.random()
                if draw < 0.08:  # in the history's first 90 days: a partial before-window
                    offset = rng.randint(0, 60)
                elif draw < 0.18:  # moved lately: a short after-window
                    offset = span - rng.randint(14, 60)
                else:
                    offset = rng.randint(150, max(151, span - 45))
                since = first_day + timedelta(days=min(offset, span))
                mode = "hybrid" if rng.random() < 0.55 else "wfa"
                service.moves.append((mode, since))
                later = since + timedelta(days=rng.randint(60, 300))
                if mode == "hybrid" and rng.random() < 0.25 and later < last_day:
                    service.moves.append(("wfa", later))
                change = rng.gauss(0, 0.07)
                service.on_time_after = min(0.995, max(0.4, service.on_time_before + change))
            services.append(service)
    return services


CATALOGUE_COLUMNS = (
    "department_code,department_name_id,department_name_en,service_code,service_name_id,"
    "service_name_en,work_mode,work_mode_since,commitment_value,commitment_unit,on_time_target,"
    "online_url,first_response_value,first_response_unit,requirements_id,requirements_en,"
    "procedure_id,procedure_en,cost_id,cost_en,product_id,product_en,hours_id,hours_en"
).split(",")


def catalogue_write(path: Path, services: list[ServiceSpec], step: int) -> int:
    """Write the catalogue as of each service's step-th move; return how many make that move."""
    moved = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, CATALOGUE_COLUMNS)
        writer.writeheader()
        for s in services:
            mode, since = ("onsite", None)
            if s.moves:
                mode, since = s.moves[min(step, len(s.moves) - 1)]
                moved += step < len(s.moves)
            writer.writerow({
                "department_code": s.department.code,
                "department_name_id": s.department.name_id,
                "department_name_en": s.department.name_en,
                "service_code": s.code, "service_name_id": s.name_id,
                "service_name_en": s.name_en, "work_mode": mode,
                "work_mode_since": since.isoformat() if since else "",
                "commitment_value": s.commitment_value, "commitment_unit": s.commitment_unit,
                "on_time_target": s.on_time_target, "online_url": s.online_url,
                "first_response_value": s.first_response[0] if s.first_response else "",
                "first_response_unit": s.first_response[1] if s.first_response else "",
                **s.texts,
            })
    return moved


def _poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (Knuth's method; a normal approximation for large means)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def service_days(s: ServiceSpec, first_day: date, last_day: date, cut: datetime,
                 calendar: WorkingCalendar, seed: int) -> Iterator[list[dict]]:
    """Yield a service's requests received on each WIB day, first_day to last_day, as of cut."""
    rng = random.Random(f"{seed}:{s.code}:{first_day}")
    hours_based = s.commitment_unit == "hours"
    since = s.moves[-1][1] if s.moves else None
    value = s.commitment_value
    span = max(1, (last_day - first_day).days)
    day = first_day
    while day <= last_day:
        working = calendar.is_working_day(day)
        out: list[dict] = []
        if working or hours_based:
            # Monday queues, quiet Fridays, slowly growing demand, weekends at round-the-clock
            # services only.
            mean = s.volume * (1.2 if day.weekday() == 0 else 0.8 if day.weekday() == 4
                               else 1.0) * (0.85 + 0.3 * (day - first_day).days / span)
            if not working:
                mean *= 0.4
            p_on_time = s.on_time_after if since and day >= since else s.on_time_before
            for k in range(_poisson(rng, mean)):
                minute = rng.randrange(24 * 60) if hours_based else rng.randrange(
                    8 * 60, 15 * 60 + 30)
                received = datetime.combine(day, dtime(minute // 60, minute % 60), WIB)
                on_time = rng.random() < p_on_time
                if hours_based:
                    share = rng.uniform(0.1, 0.95) if on_time else rng.uniform(1.05, 3.0)
                    completed: datetime | None = received + timedelta(
                        minutes=max(5, round(value * 60 * share)))
                else:
                    offset = rng.randint(0, value) if on_time else value + rng.randint(1, 5)
                    done = calendar.add_working_days(day, offset)
                    m = rng.randrange(9 * 60, 16 * 60)
                    completed = datetime.combine(done, dtime(m // 60, m % 60), WIB)
                    if completed <= received:
                        completed = received + timedelta(minutes=rng.randrange(20, 120))
                first = received + timedelta(minutes=rng.randrange(10, 6 * 60))
                if rng.random() < 0.1:
                    first += timedelta(days=rng.randint(1, 3))
                if rng.random() < 0.005:
                    completed = None  # never closed: falls due late
                if completed is not None and first > completed:
                    first = completed
                channel = "online" if rng.random() < s.online_share else rng.choice(
                    ("counter", "counter", "phone", "other"))
                out.append({
                    "service": s.code, "id": f"P{day:%Y%m%d}-{k:03d}",
                    "received_at": received.isoformat(),
                    "first_response_at": first.isoformat() if first <= cut else None,
                    "completed_at": completed.isoformat()
                    if completed is not None and completed <= cut else None,
                    "channel": channel,
                })
        yield out
        day += timedelta(days=1)


def department_batches(services: list[ServiceSpec], first_day: date, last_day: date,
                       cut: datetime, calendar: WorkingCalendar, seed: int
                       ) -> Iterator[list[dict]]:
    """Yield a department's requests day by day across its services, in reports of BATCH."""
    buffer: list[dict] = []
    streams = [service_days(s, first_day, last_day, cut, calendar, seed) for s in services]
    for day_lists in zip(*streams, strict=True):
        for requests in day_lists:
            buffer.extend(requests)
        while len(buffer) >= BATCH:
            yield buffer[:BATCH]
            buffer = buffer[BATCH:]
    if buffer:
        yield buffer


def _post(url: str, token: str, body: bytes) -> dict:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SystemExit(f"the API refused a report: {error.code} "
                         f"{error.read()[:2000].decode(errors='replace')}") from error


def report_all(base: str, tokens: dict[str, str], by_department: dict[str, list[ServiceSpec]],
               first_day: date, last_day: date, cut: datetime, seed: int,
               after_report: Callable[[], None] = lambda: None) -> tuple[int, float, float]:
    """Report every request through the API; return (requests, seconds, seconds in POSTs).

    A thread writes the next reports while the server stores the current one, as the
    departments' own systems would. ``after_report`` runs after each answer (outside the
    times), e.g. to sample the database's backends.
    """
    calendar = WorkingCalendar()
    work: queue.Queue = queue.Queue(maxsize=3)
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for code, services in by_department.items():
                for batch in department_batches(services, first_day, last_day, cut, calendar,
                                                seed):
                    work.put((code, len(batch), json.dumps({"requests": batch}).encode()))
        except BaseException as error:  # reported by the main thread
            failure.append(error)
        finally:
            work.put(None)

    producer = threading.Thread(target=produce, daemon=True)
    start = time.perf_counter()
    producer.start()
    sent, posting, last_print = 0, 0.0, start
    while (item := work.get()) is not None:
        code, count, body = item
        began = time.perf_counter()
        result = _post(f"{base}/api/v1/service-requests", tokens[code], body)
        posting += time.perf_counter() - began
        after_report()
        if result.get("created", 0) + result.get("updated", 0) != count:
            print(f"  ! {code}: {result} for {count} requests", flush=True)
        sent += count
        if time.perf_counter() - last_print > 30:
            last_print = time.perf_counter()
            elapsed = last_print - start
            print(f"  ... {sent:,} requests in {elapsed:.0f} s ({sent / elapsed:,.0f}/s), "
                  f"now {code}", flush=True)
    producer.join()
    if failure:
        raise failure[0]
    return sent, time.perf_counter() - start, posting


class _Clock:
    """Print each step with its own time and the time since the start."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def step(self, label: str) -> None:
        """Print that a step is done."""
        now = time.perf_counter()
        print(f"[{now - self.start:6.0f} s, step {now - self.last:5.0f} s] {label}", flush=True)
        self.last = now


def main() -> None:
    """Build the province-scale database and print what was built and how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--departments", type=int, default=40)
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--volume", type=float, default=1.0,
                        help="multiply every service's request volume")
    parser.add_argument("--feedback", type=float, default=2.0,
                        help="feedback items a year per service on average (0: none)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--drop", action="store_true", help="drop the database and stop")
    args = parser.parse_args()
    if args.drop:
        database_drop(args.database_url)
        print(f"dropped {args.database_url}")
        return
    if args.departments > args.services:
        parser.error("--departments must not exceed --services")

    clock = _Clock()
    now = utc_now()
    today = wib_date(now)
    # The history ends at the start of today (WIB): same data at any time of the day.
    cut = datetime.combine(today, dtime(0), WIB)
    last_day = today - timedelta(days=1)
    first_day = today - timedelta(days=round(365 * args.years))
    url = args.database_url
    database_recreate(url)
    env = portal_env(url)
    run_flask(env, "db", "upgrade")
    clock.step(f"database {url} created and upgraded")

    services = province_plan(args.services, args.departments, first_day, last_day, args.seed,
                             args.volume)
    workdir = Path(tempfile.mkdtemp(prefix="pantau-province-"))
    moved = catalogue_write(workdir / "catalogue.csv", services, 0)
    print(run_flask(env, "catalogue", "import", str(workdir / "catalogue.csv")).strip())
    two_step = catalogue_write(workdir / "catalogue-2.csv", services, 1)
    print(run_flask(env, "catalogue", "import", str(workdir / "catalogue-2.csv")).strip())
    clock.step(f"catalogue: {args.departments} departments, {len(services)} services, "
               f"{moved} moved to hybrid or WFA ({two_step} of them in two dated steps)")

    by_department: dict[str, list[ServiceSpec]] = {}
    for s in services:
        by_department.setdefault(s.department.code, []).append(s)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    tokens = {}
    with app.app_context():
        for code in by_department:
            _token, tokens[code] = token_create(code, "bench", actor=CLI_OPERATOR)
        db.session.remove()
        db.engine.dispose()
    with gunicorn(env) as server:
        workers = server.workers()
        backends = DatabaseCpu(url)
        cpu_before = cpu_seconds(workers)
        sent, took, posting = report_all(server.base, tokens, by_department, first_day,
                                         last_day, cut, args.seed, backends.sample)
        cpu = cpu_seconds(workers) - cpu_before
        backends.sample()
        db_cpu = backends.seconds()
        backends.close()
    clock.step(f"history {first_day} to {last_day}: {sent:,} requests reported through the "
               f"API in {took:.0f} s = {sent / took:,.0f} requests/s end to end "
               f"({sent / posting:,.0f}/s while the server stored them)")
    print(f"CPU: the workers {cpu:.1f} s = {sent / cpu:,.0f} requests per worker CPU second; "
          f"the database's backends {db_cpu:.1f} s; together "
          f"{sent / (cpu + db_cpu):,.0f} requests per (worker + database) CPU second",
          flush=True)
    if args.feedback > 0:
        with app.app_context():
            counts = feedback_history(services, first_day, cut, args.seed, _poisson,
                                      args.feedback)
            db.session.remove()
            db.engine.dispose()
        clock.step(f"feedback: {counts['filed']:,} filed, {counts['answered']:,} answered "
                   f"({counts['answered_late']:,} late), {counts['resolved']:,} resolved, "
                   f"{counts['published']:,} published (the citizen's and staff's services)")
    print(run_flask(env, "status", "refresh").strip())
    clock.step("statuses refreshed")
    if url.startswith("postgresql"):
        # A production server runs autovacuum; this machine's cluster has it off, so the
        # planner would work without statistics and scan the dead rows the load left. FULL:
        # every ingest batch rewrites its services' status rows, and three years of history
        # sent in minutes left service_status at 14 MB for 1,000 rows of 0.6 KB (the home
        # page's counting reads all of it), where autovacuum, reusing the space as it is
        # freed, keeps it near its live size; a plain VACUUM frees the space but keeps the
        # file as long.
        vacuum = create_engine(url, isolation_level="AUTOCOMMIT")
        with vacuum.connect() as conn:
            conn.execute(text("VACUUM (FULL, ANALYZE)"))
        vacuum.dispose()
        clock.step("vacuumed, compacted and analysed (as autovacuum keeps a busy server)")

    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {table: conn.scalar(text(f"SELECT count(*) FROM {table}")) for table in (
            "department", "service", "work_mode_change", "service_request", "service_day",
            "feedback", "feedback_event")}
        statuses = dict(conn.execute(text(
            "SELECT status, count(*) FROM service_status GROUP BY status ORDER BY status")).all())
        size = conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))")
                           ) if engine.dialect.name == "postgresql" else "n/a"
    engine.dispose()
    print("built: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    print("statuses: " + ", ".join(f"{status} {n}" for status, n in statuses.items()))
    print(f"database size: {size}; catalogue files in {workdir}")
    print(f"total {time.perf_counter() - clock.start:.0f} s (seed {args.seed}, WIB date {today})")


if __name__ == "__main__":
    main()
