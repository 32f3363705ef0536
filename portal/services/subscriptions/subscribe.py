"""Subscribing with double opt-in, confirming, and unsubscribing in one click.

``subscription_request`` stores a pending subscription and queues one mail: the confirmation
link. Nothing else is ever sent to a pending subscription; it is deleted when its link
expires (``subscriptions_expire``). ``subscription_confirm`` makes it active (replacing an
earlier one of the same address and scope, so a new choice of topics takes effect).
``subscription_unsubscribe`` deletes it, and with it the address.

Whether an address is subscribed is never revealed: a request always answers the same, and
an address gets at most a few confirmation mails a day, whoever asks.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.i18n import localized
from portal.models.catalogue import Department, Service
from portal.models.feedback import OutboxMessage
from portal.models.subscriptions import SUBSCRIPTION_SCOPES, SUBSCRIPTION_TOPICS, Subscription
from portal.services.errors import DomainError, FieldError, NotFound, ValidationError
from portal.services.outbox import outbox_enqueue
from portal.services.subscriptions.tokens import (
    email_hash,
    new_confirmation_token,
    new_nonce,
    token_hash,
    unsubscribe_token,
)

log = logging.getLogger(__name__)

MAX_EMAIL = 254
# No spaces, control characters (NUL, CR, LF: the database and mail headers refuse them),
# angle brackets, commas or quotes (one plain address, never a list of recipients).
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f<>,;\"]{1,64}@[^@\s\x00-\x1f\x7f<>,;\"]+"
                    r"\.[^@\s\x00-\x1f\x7f<>,;\"]+")
# Confirmation mails one address may receive a day, however many requests name it: the
# form cannot be used to flood someone's mailbox.
MAX_CONFIRMATIONS_PER_DAY = 3
# Sent subscription mail is deleted after this (the outbox keeps no address longer).
SENT_MAIL_KEPT = timedelta(days=7)


class ConfirmationExpired(DomainError):
    """The confirmation link is older than its lifetime; the subscription was not made."""


@dataclass(frozen=True)
class SubscriptionTarget:
    """What a subscription follows: a scope and, for a service or department, which one."""

    scope: str
    service: Service | None = None
    department: Department | None = None

    def describe(self, lang: str) -> str:
        """Name what is followed, in a language (for mails and pages)."""
        with force_locale(lang):
            if self.service is not None:
                return _("the service %(name)s", name=localized(self.service, "name", lang).text)
            if self.department is not None:
                return _("the department %(name)s",
                         name=localized(self.department, "name", lang).text)
            if self.scope == "dprd_digest":
                return _("the weekly DPRD digest")
            return _("every service of the province")


def subscription_target(scope: str, code: str | None = None) -> SubscriptionTarget:
    """Resolve a scope and a service or department code; raise NotFound or ValidationError."""
    if scope not in SUBSCRIPTION_SCOPES:
        raise ValidationError([FieldError("scope", _("Choose what to follow."),
                                          code="invalid_choice")])
    if scope == "service":
        service = db.session.scalar(select(Service).where(Service.code == (code or "")))
        if service is None:
            raise NotFound(code or "")
        return SubscriptionTarget(scope, service=service)
    if scope == "department":
        department = db.session.scalar(select(Department).where(Department.code == (code or "")))
        if department is None:
            raise NotFound(code or "")
        return SubscriptionTarget(scope, department=department)
    return SubscriptionTarget(scope)


def subscription_target_of(subscription: Subscription) -> SubscriptionTarget:
    """Return what a stored subscription follows."""
    return SubscriptionTarget(subscription.scope, subscription.service, subscription.department)


def confirm_lifetime() -> timedelta:
    """Return how long a confirmation link stays valid (PORTAL_SUBSCRIPTION_CONFIRM_HOURS)."""
    return timedelta(hours=float(current_app.config.get("PORTAL_SUBSCRIPTION_CONFIRM_HOURS", 48)))


def base_url() -> str:
    """The portal's public address from configuration (never from a request's Host header)."""
    return current_app.config["PORTAL_BASE_URL"].rstrip("/")


def confirm_url(token: str, lang: str) -> str:
    """Return the absolute address of a confirmation link."""
    return f"{base_url()}/{lang}/subscriptions/confirm/{token}"


def unsubscribe_url(subscription: Subscription) -> str:
    """Return the absolute one-click unsubscribe address of a subscription.

    Should the secret key have changed since the subscription was made, the stored hash is
    brought up to date (the caller commits it with its mail): the link every new mail carries
    must work, or the subscriber could never leave.
    """
    token = unsubscribe_token(subscription.token_nonce)
    digest = token_hash(token)
    if not hmac.compare_digest(digest, subscription.unsubscribe_token_hash or ""):
        subscription.unsubscribe_token_hash = digest
    return f"{base_url()}/{subscription.lang}/unsubscribe/{token}"


def render_mail(template: str, **context: object) -> str:
    """Render a mail template with the app's Jinja globals (commands have no request)."""
    return current_app.jinja_env.get_template(template).render(**context)


def _clean_email(value: object, errors: list[FieldError]) -> str:
    address = value.strip() if isinstance(value, str) else ""
    if not address:
        errors.append(FieldError("email", _("Enter your e-mail address."), code="required"))
    elif len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        errors.append(FieldError("email", _("Enter a valid e-mail address, such as "
                                            "nama@contoh.id."), code="invalid_format"))
    return address


def _clean_topics(scope: str, topics: Iterable[str], errors: list[FieldError]) -> set[str]:
    chosen = {t for t in topics or () if t in SUBSCRIPTION_TOPICS}
    if scope != "dprd_digest" and not chosen:
        errors.append(FieldError("topics", _("Choose at least one kind of news."),
                                 code="required"))
    return chosen


def subscription_request(
    email: object,
    target: SubscriptionTarget,
    topics: Iterable[str],
    lang: str,
    now: datetime | None = None,
) -> None:
    """Store a pending subscription and queue its confirmation mail (nothing else is sent).

    Raise ValidationError on a bad address or no topic. The answer never tells whether the
    address already follows something.
    """
    now = now or utc_now()
    errors: list[FieldError] = []
    address = _clean_email(email, errors)
    chosen = _clean_topics(target.scope, topics, errors)
    if lang not in current_app.config["PORTAL_LANGUAGES"]:
        errors.append(FieldError("lang", _("Choose a language of the portal."),
                                 code="invalid_choice"))
    if errors:
        raise ValidationError(errors)
    digest = email_hash(address)
    recent = db.session.scalar(
        select(func.count(Subscription.id)).where(
            Subscription.email_hash == digest, Subscription.created_at > now - timedelta(days=1)
        )
    ) or 0
    if recent >= MAX_CONFIRMATIONS_PER_DAY:
        log.info("subscription request refused: the address had %s confirmation mails today",
                 recent)
        return
    token = new_confirmation_token()
    nonce = new_nonce()
    is_digest = target.scope == "dprd_digest"
    subscription = Subscription(
        email=address,
        email_hash=digest,
        scope=target.scope,
        service_id=target.service.id if target.service else None,
        department_id=target.department.id if target.department else None,
        topic_status=not is_digest and "status" in chosen,
        topic_incidents=not is_digest and "incidents" in chosen,
        topic_maintenance=not is_digest and "maintenance" in chosen,
        lang=lang,
        confirm_token_hash=token_hash(token),
        confirm_expires_at=now + confirm_lifetime(),
        token_nonce=nonce,
        unsubscribe_token_hash=token_hash(unsubscribe_token(nonce)),
        created_at=now,
    )
    db.session.add(subscription)
    db.session.flush()
    with force_locale(lang):
        what = target.describe(lang)
        subject = _("Confirm your subscription to %(what)s", what=what)
        body = render_mail(
            "mail/subscription_confirm.txt", what=what, url=confirm_url(token, lang),
            expires_at=subscription.confirm_expires_at,
            topics=[] if is_digest else [t for t in SUBSCRIPTION_TOPICS if t in chosen],
        )
    # The confirmation link is the only mail a pending subscription ever gets, and it carries
    # no unsubscribe header: ignoring it is how one declines.
    outbox_enqueue(address, subject, body, lang=lang, kind="subscription.confirm", now=now)
    db.session.commit()
    log.info("subscription %s requested (%s)", subscription.id, target.scope)


def _pending_by_token(token: str) -> Subscription:
    subscription = db.session.scalar(
        select(Subscription).where(Subscription.confirm_token_hash == token_hash(token or ""))
    )
    if subscription is None:
        raise NotFound("confirmation")
    return subscription


def subscription_pending(token: str, now: datetime | None = None) -> Subscription:
    """Return the pending subscription a confirmation link names; NotFound or expired."""
    subscription = _pending_by_token(token)
    now = now or utc_now()
    if subscription.confirm_expires_at is not None and subscription.confirm_expires_at <= now:
        raise ConfirmationExpired()
    return subscription


def subscription_confirm(token: str, now: datetime | None = None) -> Subscription:
    """Activate the subscription a confirmation link names (replacing an identical one)."""
    now = now or utc_now()
    subscription = subscription_pending(token, now)
    db.session.execute(
        delete(Subscription).where(
            Subscription.id != subscription.id,
            Subscription.email_hash == subscription.email_hash,
            Subscription.scope == subscription.scope,
            Subscription.service_id.is_(None) if subscription.service_id is None
            else Subscription.service_id == subscription.service_id,
            Subscription.department_id.is_(None) if subscription.department_id is None
            else Subscription.department_id == subscription.department_id,
            Subscription.confirmed_at.is_not(None),
        )
    )
    subscription.confirm_token_hash = None
    subscription.confirm_expires_at = None
    subscription.confirmed_at = now
    db.session.commit()
    log.info("subscription %s confirmed", subscription.id)
    return subscription


def subscription_by_unsubscribe_token(token: str) -> Subscription:
    """Return the subscription an unsubscribe link names, or raise NotFound."""
    subscription = db.session.scalar(
        select(Subscription).where(Subscription.unsubscribe_token_hash == token_hash(token or ""))
    )
    if subscription is None:
        raise NotFound("subscription")
    return subscription


def subscription_unsubscribe(token: str) -> bool:
    """Delete the subscription (and its address) an unsubscribe link names; False if none."""
    try:
        subscription = subscription_by_unsubscribe_token(token)
    except NotFound:
        return False
    subscription_id = subscription.id
    # Its mail still queued is not sent, and none of its mail keeps the address: every mail of
    # a subscription carries its unsubscribe link in a header.
    db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.kind.startswith("subscription."),
               OutboxMessage.headers.contains(token, autoescape=True))
        .execution_options(synchronize_session=False)
    )
    db.session.delete(subscription)
    db.session.commit()
    log.info("subscription %s ended by its unsubscribe link", subscription_id)
    return True


def subscriptions_expire(now: datetime | None = None) -> int:
    """Delete the subscriptions whose confirmation link expired unused; return how many.

    Subscription mail is forgotten too: a week after it was sent, or, for a confirmation link
    that could not be sent, once the link has expired. The addresses stay nowhere else.
    """
    now = now or utc_now()
    result = db.session.execute(
        delete(Subscription).where(
            Subscription.confirmed_at.is_(None), Subscription.confirm_expires_at <= now
        )
    )
    db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.kind.startswith("subscription."),
               or_(OutboxMessage.sent_at < now - SENT_MAIL_KEPT,
                   and_(OutboxMessage.kind == "subscription.confirm",
                        OutboxMessage.sent_at.is_(None),
                        OutboxMessage.created_at < now - confirm_lifetime())))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def list_unsubscribe_headers(subscription: Subscription) -> dict[str, str]:
    """Return the RFC 2369 / RFC 8058 headers of a mail to a subscriber."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
