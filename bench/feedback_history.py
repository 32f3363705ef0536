"""The province's feedback over its history: filed, answered, resolved and published.

A step of ``bench.province`` (after the requests, before the status refresh): without it
every page and figure about feedback (the published list, Open311's request search, the
accountability table's response columns, the staff inbox) was measured on empty tables.

Filed through the citizen's own service (:func:`feedback_submit`, which validates, routes
and sets the deadlines) and handled through the staff's (an officer of each department
answers, resolves and decides on publishing), each with the moment it happened in the
history: the same code as the form and the staff pages, without HTTP (the form's rate limit
and CSRF are for people). Deterministic: the same seed, plan and WIB date give the same
feedback. A busier service gets more (on average ``rate`` items a year per service, in
proportion to its requests); about 80% get a first answer, most within the deadline, some
late, and the rest stay open (the backlog and overdue figures count them); a quarter of
the reporters ask for publication, which the department grants for most answered items.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime

from portal.domain.calendar import WIB, WorkingCalendar
from portal.extensions import db
from portal.models.feedback import REGENCIES
from portal.models.users import User
from portal.services.auth import CLI_OPERATOR, user_create
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_answer, feedback_status_set
from portal.services.feedback.publishing import feedback_publish_approve

SUBJECTS = {
    "complaint": [
        ("Antrean terlalu lama", "Saya menunggu lebih dari tiga jam di loket {service}."),
        ("Berkas belum selesai", "Permohonan saya untuk {service} belum selesai melewati "
                                 "janji waktu layanan."),
        ("Petugas tidak menjawab", "Saya sudah menghubungi layanan {service} tiga kali "
                                   "tanpa jawaban."),
    ],
    "suggestion": [
        ("Tambahkan layanan daring", "Mohon {service} dapat diajukan sepenuhnya secara daring."),
        ("Jadwal layanan", "Mohon jam layanan {service} diperpanjang pada hari Senin."),
    ],
    "question": [
        ("Persyaratan berkas", "Apa saja persyaratan untuk {service}?"),
        ("Biaya layanan", "Apakah {service} dikenakan biaya?"),
    ],
    "compliment": [
        ("Pelayanan cepat", "Terima kasih, {service} selesai lebih cepat dari janji."),
    ],
}
KIND_WEIGHTS = {"complaint": 0.6, "suggestion": 0.15, "question": 0.2, "compliment": 0.05}
ANSWER = "Terima kasih atas laporan Anda. Kami telah menindaklanjutinya sesuai standar pelayanan."
RESOLVED = "Laporan telah diselesaikan."


def officers_create(department_codes: list[str]) -> dict[str, int]:
    """Create an officer account for each department (random passwords: nobody logs in);
    return their ids by department code."""
    return {code: user_create(f"petugas-{code}"[:60], secrets.token_urlsafe(24), "officer",
                              code, actor=CLI_OPERATOR).id
            for code in department_codes}


def _at(day: date, rng: random.Random) -> datetime:
    """A moment of office hours (08:00–15:59 WIB) on a day."""
    return datetime.combine(day, dtime(8 + rng.randrange(8), rng.randrange(60)), WIB)


def feedback_history(services: list, first_day: date, cut: datetime, seed: int,
                     poisson: Callable[[random.Random, float], int],
                     rate: float = 1.0) -> dict[str, int]:
    """File and handle the province's feedback from first_day to the cut; return counts.

    ``services``: bench.province's ServiceSpec list (code, department, volume, name);
    ``poisson``: its count drawing. Runs in an app context on the bench database. Nothing
    happens at or after the cut.
    """
    rng = random.Random(f"{seed}:feedback")
    calendar = WorkingCalendar()
    officers = officers_create(sorted({s.department.code for s in services}))
    mean_volume = sum(s.volume for s in services) / len(services)
    span = (cut.date() - first_day).days
    kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
    regencies = list(REGENCIES)
    # Every item first, in time order: feedback is filed and handled as the days pass.
    plan = []
    for s in services:
        count = poisson(rng, rate * span / 365 * s.volume / mean_volume)
        for _ in range(count):
            day = first_day + timedelta(days=rng.randrange(span))
            while not calendar.is_working_day(day):
                day += timedelta(days=1)
            if day >= cut.date():
                continue
            plan.append((_at(day, rng), s, rng.choices(kinds, weights)[0],
                         rng.random(), rng.random(), rng.random()))
    plan.sort(key=lambda item: (item[0], item[1].code))
    counts = {"filed": 0, "answered": 0, "answered_late": 0, "resolved": 0, "published": 0}
    for filed_at, s, kind, answer_draw, late_draw, publish_draw in plan:
        subject, body = rng.choice(SUBJECTS[kind])
        feedback = feedback_submit({
            "kind": kind, "service": s.code, "subject": subject,
            "body": body.format(service=s.name_id), "regency": rng.choice(regencies),
            "name": "", "email": "", "phone": "", "anonymous": True, "confidential": False,
            "publish": publish_draw < 0.25,
        }, "id", now=filed_at)
        counts["filed"] += 1
        if answer_draw >= 0.8 or feedback.first_response_due is None:
            continue  # never answered: open, overdue once its deadline passes
        # Most within the response deadline, some up to two weeks late.
        due = feedback.first_response_due
        answered_at = (filed_at + (due - filed_at) * rng.uniform(0.1, 0.95) if late_draw < 0.85
                       else due + timedelta(hours=rng.uniform(1, 24 * 14)))
        if answered_at >= cut:
            continue
        officer = db.session.get(User, officers[s.department.code])
        feedback_answer(officer, feedback.id, ANSWER, now=answered_at)
        counts["answered"] += 1
        counts["answered_late"] += answered_at > due
        resolved_at = answered_at + timedelta(hours=rng.uniform(2, 24 * 10))
        if resolved_at < cut:
            feedback_status_set(officer, feedback.id, "resolved", RESOLVED, now=resolved_at)
            counts["resolved"] += 1
            if feedback.publish_requested and publish_draw < 0.2:
                feedback_publish_approve(officer, feedback.id, subject, body.format(
                    service=s.name_id), now=resolved_at + timedelta(minutes=30))
                counts["published"] += 1
        db.session.expunge_all()  # keep the session small over thousands of items
    return counts

