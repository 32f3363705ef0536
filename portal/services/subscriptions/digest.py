"""The weekly DPRD digest: what changed in the services the DPRD's commissions oversee.

``dprd_digest_send`` (run every Monday by ``flask subscriptions send-digest``) covers the last
complete week, Monday to Sunday in WIB, and mails it to every active DPRD account with an
address (in the portal's default language) and to every confirmed subscriber of the digest
(in their language, with a one-click unsubscribe). An address that is both gets it once.

The digest lists, per department, grouped by the DPRD commission that oversees it (``I`` to
``IV``; departments without one come last):

- the services whose status at the end of the week differs from the one before its first
  change of the week (from the stored status history);
- new significant WFA impact verdicts: a ``decline`` or ``improvement`` at the end of the
  week that was not the verdict at its start (docs/definitions.md, "WFA impact");
- the feedback that has missed a deadline it still waits on, counted at the time of sending.

When no department carries a commission, the departments are listed without grouping.

It is sent once per week: a ``subscription_notice`` row for the week, inserted with the
mails, lets one run win. Nothing in it names a citizen or quotes their text.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now, wib_date, wib_midnight
from portal.extensions import db
from portal.i18n import date_long, localized
from portal.models.catalogue import Department, Service
from portal.models.feedback import OPEN_STATUSES, Feedback
from portal.models.metrics import ServiceStatusChange
from portal.models.subscriptions import Subscription, SubscriptionNotice
from portal.models.users import User
from portal.services.auth import Role
from portal.services.feedback.deadlines import overdue_deadlines
from portal.services.metrics.wfa_impact import wfa_impacts
from portal.services.outbox import outbox_enqueue
from portal.services.subscriptions.notify import _status_label
from portal.services.subscriptions.subscribe import (
    base_url,
    list_unsubscribe_headers,
    render_mail,
    unsubscribe_url,
)

log = logging.getLogger(__name__)

COMMISSIONS = ("I", "II", "III", "IV")
SIGNIFICANT_VERDICTS = ("decline", "improvement")


@dataclass
class DepartmentNews:
    """What the digest says about one department."""

    department: Department
    status_changes: list[tuple[Service, str, str]] = field(default_factory=list)
    verdicts: list[tuple[Service, str, object]] = field(default_factory=list)
    overdue_feedback: int = 0

    @property
    def is_empty(self) -> bool:
        """Tell whether there is nothing to say about the department."""
        return not (self.status_changes or self.verdicts or self.overdue_feedback)


@dataclass
class DigestContent:
    """The digest of one week: departments with news, by commission (None: no commission)."""

    first_day: date
    last_day: date
    by_commission: dict[str | None, list[DepartmentNews]]
    # Whether any department carries a commission: if none does, there is no grouping.
    grouped: bool = True

    def sections(self) -> list[tuple[str | None, list[DepartmentNews]]]:
        """Return the commissions in order (I to IV, then none when it has news).

        When no department carries a commission, one section lists every department.
        """
        if not self.grouped:
            return [(None, self.by_commission.get(None, []))]
        sections = [(c, self.by_commission.get(c, [])) for c in COMMISSIONS]
        if self.by_commission.get(None):
            sections.append((None, self.by_commission[None]))
        return sections


@dataclass
class DigestSummary:
    """What one run of the digest did."""

    week: int = 0
    mails: int = 0
    already_sent: bool = False


def digest_week(now: datetime) -> tuple[date, date]:
    """Return the last complete week (Monday to Sunday, WIB) before ``now``."""
    today = wib_date(now)
    last_day = today - timedelta(days=today.isoweekday())  # the Sunday before today
    return last_day - timedelta(days=6), last_day


def week_key(last_day: date) -> int:
    """Return the ISO year and week of a week as one number (2026 week 49: 202649)."""
    year, week, _day = last_day.isocalendar()
    return year * 100 + week


def _status_changes(start: datetime, end: datetime) -> dict[int, tuple[str, str]]:
    """Return each service's status before its first change in [start, end) and after its last."""
    net: dict[int, tuple[str, str]] = {}
    for change in db.session.scalars(
        select(ServiceStatusChange)
        .where(ServiceStatusChange.changed_at >= start, ServiceStatusChange.changed_at < end)
        .order_by(ServiceStatusChange.changed_at, ServiceStatusChange.id)
    ):
        first = net.get(change.service_id, (change.from_status, change.from_status))[0]
        net[change.service_id] = (first, change.to_status)
    return {sid: pair for sid, pair in net.items() if pair[0] != pair[1]}


def _new_verdicts(services: list[Service], start: datetime, end: datetime) -> dict[int, object]:
    """Return the significant WFA verdicts at ``end`` that were not the verdict at ``start``."""
    after = wfa_impacts(services, now=end)
    if not after:
        return {}
    before = wfa_impacts([s for s in services if s.id in after], now=start)
    new = {}
    for service_id, impact in after.items():
        if impact.verdict not in SIGNIFICANT_VERDICTS:
            continue
        earlier = before.get(service_id)
        if earlier is None or earlier.verdict != impact.verdict:
            new[service_id] = impact
    return new


def _overdue_by_department(now: datetime) -> dict[int, int]:
    """Count the open feedback of each department that missed a deadline it waits on."""
    counts: dict[int, int] = defaultdict(int)
    for feedback in db.session.scalars(
        select(Feedback).where(Feedback.status.in_(OPEN_STATUSES),
                               Feedback.department_id.is_not(None))
    ):
        if overdue_deadlines(feedback, now):
            counts[feedback.department_id] += 1
    return counts


def dprd_digest_content(now: datetime | None = None) -> DigestContent:
    """Gather the digest of the last complete week, by commission and department."""
    now = now or utc_now()
    first_day, last_day = digest_week(now)
    start, end = wib_midnight(first_day), wib_midnight(last_day + timedelta(days=1))
    services = list(db.session.scalars(
        select(Service).options(selectinload(Service.department)).order_by(Service.name_id)
    ))
    by_id = {s.id: s for s in services}
    news: dict[int, DepartmentNews] = {}

    def of(department: Department) -> DepartmentNews:
        return news.setdefault(department.id, DepartmentNews(department))

    for service_id, (old, new) in _status_changes(start, end).items():
        if service_id in by_id:
            service = by_id[service_id]
            of(service.department).status_changes.append((service, old, new))
    for service_id, impact in _new_verdicts(services, start, end).items():
        service = by_id[service_id]
        of(service.department).verdicts.append((service, impact.verdict, impact))
    overdue = _overdue_by_department(now)
    if overdue:
        for department in db.session.scalars(
            select(Department).where(Department.id.in_(list(overdue)))
        ):
            of(department).overdue_feedback = overdue[department.id]
    by_commission: dict[str | None, list[DepartmentNews]] = defaultdict(list)
    for item in sorted(news.values(), key=lambda n: n.department.name_id):
        commission = item.department.dprd_commission
        by_commission[commission if commission in COMMISSIONS else None].append(item)
    grouped = db.session.scalar(
        select(func.count(Department.id)).where(Department.dprd_commission.in_(COMMISSIONS))
    ) > 0
    return DigestContent(first_day, last_day, dict(by_commission), grouped)


def _recipients() -> list[tuple[str, str, Subscription | None]]:
    """Return (address, language, subscription or None) of everyone who gets the digest."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    seen: set[str] = set()
    recipients: list[tuple[str, str, Subscription | None]] = []
    for subscription in db.session.scalars(
        select(Subscription).where(Subscription.scope == "dprd_digest",
                                   Subscription.confirmed_at.is_not(None))
        .order_by(Subscription.id)
    ):
        key = subscription.email.strip().lower()
        if key not in seen:
            seen.add(key)
            recipients.append((subscription.email, subscription.lang, subscription))
    for user in db.session.scalars(
        select(User).where(User.role == Role.DPRD.value, User.is_active.is_(True))
        .order_by(User.id)
    ):
        key = (user.email or "").strip().lower()
        if key and key not in seen:
            seen.add(key)
            recipients.append((user.email, default, None))
    return recipients


def _render(
    content: DigestContent, lang: str, subscription: Subscription | None
) -> tuple[str, str]:
    """Return the subject and body of the digest in a language."""
    with force_locale(lang):
        subject = _("DPRD weekly digest, %(start)s to %(end)s",
                    start=_day(content.first_day), end=_day(content.last_day))
        body = render_mail(
            "mail/dprd_digest.txt", content=content, lang=lang,
            sections=content.sections(), status_label_of=_status_label,
            name_of=lambda obj: localized(obj, "name", lang).text,
            service_url=lambda s: f"{base_url()}/{lang}/services/{s.code}",
            accountability_url=f"{base_url()}/{lang}/accountability",
            unsubscribe_url=unsubscribe_url(subscription) if subscription else None,
            day=_day,
        )
    return subject, body


def _day(value: date) -> str:
    """Format a day in the current locale."""
    return date_long(value)


def dprd_digest_send(now: datetime | None = None) -> DigestSummary:
    """Queue the digest of the last complete week to every recipient, once per week."""
    now = now or utc_now()
    content = dprd_digest_content(now)
    key = week_key(content.last_day)
    summary = DigestSummary(week=key)
    recipients = _recipients()
    rendered: dict[str, tuple[str, str]] = {}
    try:
        db.session.add(SubscriptionNotice(event_type="dprd_digest", event_id=key,
                                          mails=len(recipients), created_at=now))
        db.session.flush()
        for address, lang, subscription in recipients:
            if subscription is not None:
                subject, body = _render(content, lang, subscription)
                headers = list_unsubscribe_headers(subscription)
                kind = "subscription.dprd_digest"
            else:
                if lang not in rendered:
                    rendered[lang] = _render(content, lang, None)
                subject, body = rendered[lang]
                headers = None
                kind = "dprd.digest"
            outbox_enqueue(address, subject, body, lang=lang, kind=kind, now=now,
                           headers=headers)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        summary.already_sent = True
        return summary
    summary.mails = len(recipients)
    log.info("DPRD digest of week %s queued in %s mails", key, summary.mails)
    return summary
