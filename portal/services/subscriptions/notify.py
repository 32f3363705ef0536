"""Telling confirmed subscribers about status changes, incidents (opened, resolved) and maintenance.

``subscriptions_notify`` (run after every status refresh, and right after an incident is
opened, updated or maintenance is scheduled) finds the events of the last two days nobody
announced yet: stored status changes (``service_status_change``, written by the status
evaluation), incidents opened, incidents resolved (keyed by the update that resolved them, so
a reopened incident resolved again is announced again) and maintenance. Each subscriber
gets one mail per run listing the events of what they follow and the topics they chose, in
their language, with a one-click unsubscribe. An event reaches only subscriptions confirmed
before it happened.

Each announced event gets a ``subscription_notice`` row, inserted in the same transaction as
the mails: its unique key lets one run win when two overlap, and nothing is announced twice.

A change into or out of ``disrupted`` is an incident: subscribers who follow incidents hear
of the incident itself, not twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.i18n import localized
from portal.models.catalogue import Service
from portal.models.incidents import Incident, Maintenance
from portal.models.metrics import ServiceStatusChange
from portal.models.subscriptions import Subscription, SubscriptionNotice
from portal.services.metrics.status import status_reason_text
from portal.services.outbox import outbox_enqueue
from portal.services.subscriptions.subscribe import (
    base_url,
    list_unsubscribe_headers,
    render_mail,
    subscription_target_of,
    subscriptions_expire,
    unsubscribe_url,
)

log = logging.getLogger(__name__)

# Events older than this are not announced any more (the job was down; the news is stale).
LOOKBACK = timedelta(days=2)
# The topic each kind of event belongs to.
TOPIC_OF = {"status_change": "status", "incident": "incidents",
            "incident_resolved": "incidents", "maintenance": "maintenance"}


@dataclass
class Event:
    """Something subscribers may be told about, with the services and departments it names."""

    kind: str
    id: int
    at: datetime
    service_ids: set[int]
    department_ids: set[int]
    source: object

    @property
    def involves_disruption(self) -> bool:
        """Tell whether a status change is a disruption beginning or ending."""
        return self.kind == "status_change" and "disrupted" in (
            self.source.from_status, self.source.to_status)


@dataclass
class NotifySummary:
    """What one run of the notifier did."""

    events: int = 0
    mails: int = 0
    expired: int = 0
    already_sent: bool = False
    by_kind: dict[str, int] = field(default_factory=dict)


def _announced(kind: str, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(db.session.scalars(
        select(SubscriptionNotice.event_id).where(
            SubscriptionNotice.event_type == kind, SubscriptionNotice.event_id.in_(ids))
    ))


def _pending_events(now: datetime) -> list[Event]:
    """Return the events of the lookback window not announced yet, oldest first."""
    since = now - LOOKBACK
    events: list[Event] = []
    changes = list(db.session.scalars(
        select(ServiceStatusChange).where(ServiceStatusChange.changed_at >= since)
        .order_by(ServiceStatusChange.id)
    ))
    done = _announced("status_change", [c.id for c in changes])
    services = {s.id: s for s in db.session.scalars(
        select(Service).where(Service.id.in_({c.service_id for c in changes}))
        .options(selectinload(Service.department))
    )} if changes else {}
    for change in changes:
        service = services.get(change.service_id)
        if change.id in done or service is None:
            continue
        events.append(Event("status_change", change.id, change.changed_at, {service.id},
                            {service.department_id}, SimpleNamespace(
                                from_status=change.from_status, to_status=change.to_status,
                                reason_params=change.reason_params, service=service)))
    incidents = list(db.session.scalars(
        select(Incident).where(Incident.started_at >= since)
        .options(selectinload(Incident.services), selectinload(Incident.updates))
        .order_by(Incident.id)
    ))
    done = _announced("incident", [i.id for i in incidents])
    for incident in incidents:
        if incident.id not in done:
            events.append(Event("incident", incident.id, incident.started_at,
                                {s.id for s in incident.services},
                                {s.department_id for s in incident.services}, incident))
    resolved = list(db.session.scalars(
        select(Incident).where(Incident.resolved_at >= since)
        .options(selectinload(Incident.services), selectinload(Incident.updates))
        .order_by(Incident.id)
    ))
    resolutions = [(incident, _resolving_update(incident)) for incident in resolved]
    resolutions = [(i, u) for i, u in resolutions if u is not None]
    done = _announced("incident_resolved", [u.id for _i, u in resolutions])
    for incident, update in resolutions:
        if update.id not in done:
            events.append(Event("incident_resolved", update.id, update.created_at,
                                {s.id for s in incident.services},
                                {s.department_id for s in incident.services},
                                SimpleNamespace(incident=incident, update=update)))
    windows = list(db.session.scalars(
        select(Maintenance).where(Maintenance.created_at >= since, Maintenance.ends_at > now)
        .options(selectinload(Maintenance.services)).order_by(Maintenance.id)
    ))
    done = _announced("maintenance", [m.id for m in windows])
    for maintenance in windows:
        if maintenance.id not in done:
            events.append(Event("maintenance", maintenance.id, maintenance.created_at,
                                {s.id for s in maintenance.services},
                                {s.department_id for s in maintenance.services}, maintenance))
    # Maintenance declared but already over, or incidents of the window, count as announced
    # too once this run commits; events outside the window are simply never read again.
    events.sort(key=lambda e: (e.at, e.kind, e.id))
    return events


def _resolving_update(incident: Incident):
    """Return the update that resolved an incident (the first of its last resolved run)."""
    resolving = None
    for update in incident.updates:
        if update.state == "resolved":
            resolving = resolving or update
        else:
            resolving = None
    return resolving


def _wants(subscription: Subscription, event: Event) -> bool:
    """Tell whether an event belongs in a subscriber's mail (scope, topic, time)."""
    if subscription.confirmed_at is None or event.at < subscription.confirmed_at:
        return False
    if not getattr(subscription, f"topic_{TOPIC_OF[event.kind]}"):
        return False
    if event.involves_disruption and subscription.topic_incidents:
        return False
    if subscription.scope == "province":
        return True
    if subscription.scope == "department":
        return subscription.department_id in event.department_ids
    return subscription.scope == "service" and subscription.service_id in event.service_ids


def _service_names(services: list[Service], lang: str) -> str:
    return ", ".join(localized(s, "name", lang).text for s in services)


def _item(event: Event, lang: str) -> dict:
    """Describe an event for a mail in ``lang`` (called inside force_locale)."""
    base = base_url()
    source = event.source
    if event.kind == "status_change":
        service = source.service
        return {
            "kind": event.kind,
            "title": _("%(service)s: %(status)s", service=localized(service, "name", lang).text,
                       status=_status_label(source.to_status)),
            "from_status": source.from_status,
            "to_status": source.to_status,
            "reason": status_reason_text(
                SimpleNamespace(status=source.to_status, reason_params=source.reason_params),
                lang),
            "url": f"{base}/{lang}/services/{service.code}",
            "at": event.at,
        }
    if event.kind == "incident":
        update = source.updates[0] if source.updates else None
        return {
            "kind": event.kind,
            "title": localized(source, "title", lang).text,
            "impact": source.impact,
            "services": _service_names(source.services, lang),
            "body": localized(update, "body", lang).text if update else "",
            "url": f"{base}/{lang}/incidents/{source.id}",
            "at": event.at,
        }
    if event.kind == "incident_resolved":
        incident = source.incident
        return {
            "kind": event.kind,
            "title": localized(incident, "title", lang).text,
            "services": _service_names(incident.services, lang),
            "body": localized(source.update, "body", lang).text,
            "url": f"{base}/{lang}/incidents/{incident.id}",
            "at": event.at,
        }
    return {
        "kind": event.kind,
        "title": localized(source, "title", lang).text,
        "services": _service_names(source.services, lang),
        "body": localized(source, "description", lang).text,
        "starts_at": source.starts_at,
        "ends_at": source.ends_at,
        "url": f"{base}/{lang}/incidents",
        "at": event.at,
    }


def _status_label(status: str) -> str:
    """Return the translated short name of a status (the same words the pages use)."""
    labels = {
        "disrupted": _("Disrupted"),
        "no_data": _("No data"),
        "insufficient_data": _("Not enough data"),
        "meeting": _("Meeting its commitment"),
        "at_risk": _("At risk"),
        "breaching": _("Breaching its commitment"),
    }
    return labels.get(status, status)


def _mail(subscription: Subscription, items: list[dict]) -> tuple[str, str]:
    """Return the subject and body of one subscriber's mail (inside force_locale)."""
    lang = subscription.lang
    what = subscription_target_of(subscription).describe(lang)
    if len(items) == 1:
        subject = items[0]["title"]
        if items[0]["kind"] == "incident":
            subject = _("Incident: %(title)s", title=subject)
        elif items[0]["kind"] == "incident_resolved":
            subject = _("Resolved: %(title)s", title=subject)
        elif items[0]["kind"] == "maintenance":
            subject = _("Planned maintenance: %(title)s", title=subject)
    else:
        subject = ngettext("%(num)d update about %(what)s", "%(num)d updates about %(what)s",
                           len(items), what=what)
    body = render_mail("mail/subscription_notice.txt", items=items, what=what,
                       unsubscribe_url=unsubscribe_url(subscription),
                       status_label_of=_status_label)
    return subject, body


def subscriptions_notify(now: datetime | None = None) -> NotifySummary:
    """Mail every confirmed subscriber the events not announced yet; expire pending ones."""
    now = now or utc_now()
    summary = NotifySummary(expired=subscriptions_expire(now))
    events = _pending_events(now)
    if not events:
        db.session.commit()
        return summary
    subscriptions = list(db.session.scalars(
        select(Subscription)
        .where(Subscription.confirmed_at.is_not(None),
               Subscription.scope.in_(("service", "department", "province")))
        .options(selectinload(Subscription.service), selectinload(Subscription.department))
        .order_by(Subscription.id)
    ))
    mails: list[tuple[Subscription, list[Event]]] = []
    per_event: dict[tuple[str, int], int] = defaultdict(int)
    for subscription in subscriptions:
        wanted = [e for e in events if _wants(subscription, e)]
        if wanted:
            mails.append((subscription, wanted))
            for event in wanted:
                per_event[(event.kind, event.id)] += 1
    items_cache: dict[tuple[str, int, str], dict] = {}
    try:
        for event in events:
            db.session.add(SubscriptionNotice(event_type=event.kind, event_id=event.id,
                                              mails=per_event[(event.kind, event.id)],
                                              created_at=now))
        db.session.flush()
        for subscription, wanted in mails:
            lang = subscription.lang
            with force_locale(lang):
                items = []
                for event in wanted:
                    key = (event.kind, event.id, lang)
                    if key not in items_cache:
                        items_cache[key] = _item(event, lang)
                    items.append(items_cache[key])
                subject, body = _mail(subscription, items)
            outbox_enqueue(subscription.email, subject, body, lang=lang,
                           kind="subscription.notice", now=now,
                           headers=list_unsubscribe_headers(subscription))
        db.session.commit()
    except IntegrityError:
        # Another run announced these events at the same moment.
        db.session.rollback()
        summary.already_sent = True
        return summary
    summary.events = len(events)
    summary.mails = len(mails)
    for event in events:
        summary.by_kind[event.kind] = summary.by_kind.get(event.kind, 0) + 1
    log.info("subscriptions: %s events announced in %s mails", summary.events, summary.mails)
    return summary


def subscriptions_notify_now(now: datetime | None = None) -> None:
    """Announce at once what was just published (an incident, maintenance).

    A failure is logged, not raised: the change is stored already, and the next status
    refresh announces whatever this run could not.
    """
    try:
        subscriptions_notify(now)
    except Exception as error:  # the staff member's action succeeded; the mail follows later
        db.session.rollback()
        # The error's class only: a database error's text quotes the statement's parameters,
        # which hold subscribers' addresses.
        log.error("subscriptions: announcing at once failed (%s); the next refresh retries",
                  type(error).__name__)
