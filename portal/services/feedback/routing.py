"""Feedback routing (docs/definitions.md, "Routing"), first rule that applies wins.

0. an integrity report (the citizen ticked the box, or an administrator's integrity phrase
   matches the text) -> the integrity unit, never the department concerned (which is
   recorded, for the integrity unit);
1. the citizen chose a service -> that service's department;
2. an administrator's routing rule matches the text -> that rule's department;
3. otherwise -> the triage unit, which routes it by hand.

Rule matching is case-insensitive and tolerant of accents, spacing and punctuation, and works
on whole words or whole phrases: the phrase "dinas" matches "Dinas Kesehatan" but not
"dinasti". When several rules match, the highest ``priority`` wins; among equal priorities the
longest phrase (in normalised characters, the more specific one) wins, then the oldest rule
(lowest id). That order is total, so the same text always goes to the same department.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, event, func, select, update
from sqlalchemy.orm import Session, selectinload

from portal.extensions import db
from portal.i18n import localized
from portal.models.catalogue import Department, Service
from portal.models.feedback import INTEGRITY_BY_CITIZEN, IntegrityPhrase, RoutingRule
from portal.services.auth import Permission, audit_record, require_permission
from portal.services.errors import FieldError, NotFound, ValidationError
from portal.services.paging import LIST_PAGE_MAX, LIST_PAGE_SIZE, Pagination, paginate

MAX_PHRASE = 200
# Priorities are small whole numbers an administrator can reason about.
MIN_PRIORITY = -1000
MAX_PRIORITY = 1000
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def text_normalise(text: str) -> str:
    """Fold text for matching: no accents, lower case, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", stripped.casefold()).strip()


def phrase_matches(phrase: str, text: str) -> bool:
    """Tell whether the phrase occurs in the text as whole words (both normalised here)."""
    needle = text_normalise(phrase)
    if not needle:
        return False
    return f" {needle} " in f" {text_normalise(text)} "


@dataclass(frozen=True)
class RoutingDecision:
    """Where feedback goes and why."""

    department: Department | None
    # "integrity", "service", "rule" or "triage" (see Feedback.routing_rule).
    rule: str
    # The service code or the rule's phrase; for integrity, "citizen" or the integrity
    # phrase; empty for triage.
    detail: str = ""
    rule_id: int | None = None
    # Integrity reports: the department the report is about, which must never see it.
    concerned: Department | None = None

    @property
    def integrity(self) -> bool:
        """Tell whether this is an integrity report (routing rule 0)."""
        return self.rule == "integrity"


def triage_unit() -> Department | None:
    """Return the triage unit, or None when no department is marked as one."""
    return db.session.scalars(
        select(Department).where(Department.is_triage_unit.is_(True)).order_by(Department.id)
    ).first()


_TRIAGE_UNIT_KEY = "portal.triage_unit"


def triage_unit_cached() -> Department | None:
    """Return the triage unit, looked up once per transaction of the current session.

    For readers that may run several times in one request (the public view of feedback,
    rendered for the page, the API and each mail). The lookup is forgotten when the
    transaction ends (commit or rollback) and when a department is written in it.
    """
    info = db.session.info
    if _TRIAGE_UNIT_KEY not in info:
        info[_TRIAGE_UNIT_KEY] = triage_unit()
    return info[_TRIAGE_UNIT_KEY]


@event.listens_for(Session, "after_transaction_end")
def _forget_triage_unit(session: Session, _transaction: Any) -> None:
    session.info.pop(_TRIAGE_UNIT_KEY, None)


@event.listens_for(Session, "after_flush")
def _forget_triage_unit_on_write(session: Session, _context: Any) -> None:
    if any(isinstance(obj, Department)
           for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_TRIAGE_UNIT_KEY, None)


def integrity_unit() -> Department | None:
    """Return the integrity unit (the Inspektorat), or None when none is set."""
    return db.session.scalars(
        select(Department).where(Department.is_integrity_unit.is_(True)).order_by(Department.id)
    ).first()


# The order matching tries integrity phrases in: the longest (in normalised characters), then
# the oldest; the phrase found decides only the reason shown.
_INTEGRITY_PRECEDENCE = (func.length(IntegrityPhrase.normalised).desc(), IntegrityPhrase.id)
# The order matching tries routing rules in, the first that matches winning: the highest
# priority, then the longest phrase (in normalised characters), then the oldest rule. The staff
# page lists them in this order too, so what it shows first is what wins.
_RULE_PRECEDENCE = (
    RoutingRule.priority.desc(), func.length(RoutingRule.normalised).desc(), RoutingRule.id)


def _first_found(model: Any, precedence: tuple, text: str) -> Any:
    """Return the first row of model, in precedence, whose phrase occurs in text as whole words.

    Only ids and normal forms are read to find it: a province may hold thousands of rules.
    """
    normalised = f" {text_normalise(text)} "
    rows = db.session.execute(select(model.id, model.normalised).order_by(*precedence))
    found = next((row_id for row_id, needle in rows
                  if needle and f" {needle} " in normalised), None)
    return None if found is None else db.session.get(model, found)


def integrity_phrase_matching(text: str) -> IntegrityPhrase | None:
    """Return the integrity phrase found in text (the longest, then the oldest), or None."""
    return _first_found(IntegrityPhrase, _INTEGRITY_PRECEDENCE, text)


def routing_decide(
    service: Service | None, text: str, integrity: bool = False
) -> RoutingDecision:
    """Decide the department of new feedback, with the reason.

    ``integrity``: the citizen said the report is about corruption, bribery, illegal levies
    or misconduct by officials (rule 0). Without an integrity unit, an integrity report goes
    to the triage unit, still never to the department concerned.
    """
    phrase = None if integrity else integrity_phrase_matching(text)
    if integrity or phrase is not None:
        unit = integrity_unit()
        concerned = _ordinary_decision(service, text).department
        if concerned is not None and (concerned == unit or concerned.is_triage_unit):
            concerned = None  # the report is about no department but the handler itself
        return RoutingDecision(
            unit, "integrity",
            INTEGRITY_BY_CITIZEN if phrase is None else phrase.phrase,
            concerned=concerned,
        )
    return _ordinary_decision(service, text)


def _ordinary_decision(service: Service | None, text: str) -> RoutingDecision:
    """Decide by rules 1 to 3: the chosen service, a routing rule, else the triage unit."""
    if service is not None:
        return RoutingDecision(service.department, "service", service.code)
    rule = _first_found(RoutingRule, _RULE_PRECEDENCE, text)
    if rule is not None:
        return RoutingDecision(rule.department, "rule", rule.phrase, rule.id)
    return RoutingDecision(None, "triage")


def routing_reason(
    rule: str,
    detail: str,
    department: Department | None,
    lang: str,
    service: Service | None = None,
) -> str:
    """Say, as one translated sentence in the current locale, why feedback went where it went."""
    name = localized(department, "name", lang).text if department is not None else ""
    if rule == "integrity":
        return _integrity_reason(detail, department, name)
    if rule == "service" and department is not None:
        return _(
            "It went to %(department)s because you chose one of its services: %(service)s.",
            department=name,
            service=localized(service, "name", lang).text if service is not None else detail,
        )
    if rule == "rule" and department is not None:
        return _(
            "It went to %(department)s because your text mentions “%(phrase)s”, "
            "a subject this department handles.",
            department=name,
            phrase=detail,
        )
    if rule == "triage" and department is not None:
        return _(
            "The province's complaint-management unit sent it to %(department)s, "
            "which is responsible for this subject.",
            department=name,
        )
    return _(
        "No service was chosen and no routing rule matched your text, so the province's "
        "complaint-management unit will read it and send it to the right department."
    )


def _integrity_reason(detail: str, department: Department | None, name: str) -> str:
    """Say why an integrity report went to the integrity unit (or the triage unit)."""
    if detail == INTEGRITY_BY_CITIZEN:
        why = _("You said your report is about corruption, bribery, illegal levies or "
                "misconduct by officials.")
    else:
        why = _("Your text mentions “%(phrase)s”, which points to corruption, bribery, illegal "
                "levies or misconduct by officials.", phrase=detail)
    if department is not None:
        where = _("It went to %(department)s, the province's integrity unit.", department=name)
    else:
        where = _("The province's complaint-management unit will send it to the integrity unit.")
    promise = _("The department concerned does not see your report or learn that it exists, "
                "and your name and contact details are kept confidential.")
    return f"{why} {where} {promise}"


# -- administration (CLI and admin pages) ------------------------------------------------------


def _department_by_code(code: str) -> Department:
    department = db.session.scalars(select(Department).where(Department.code == code)).first()
    if department is None:
        raise NotFound(code)
    return department


def routing_rule_add(
    department_code: str, phrase: str, priority: int = 0, *, actor: Any
) -> RoutingRule:
    """Add a routing rule: feedback mentioning ``phrase`` goes to the department (audited)."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    department = _department_by_code(department_code)
    phrase = " ".join((phrase or "").split())
    errors = _phrase_errors(phrase)
    if isinstance(priority, bool) or not isinstance(priority, int):
        errors.append(FieldError("priority", _("must be a whole number")))
    elif not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        errors.append(FieldError("priority", _("must be between %(low)d and %(high)d",
                                               low=MIN_PRIORITY, high=MAX_PRIORITY)))
    if errors:
        raise ValidationError(errors)
    rule = RoutingRule(department=department, phrase=phrase, normalised=text_normalise(phrase),
                       priority=priority)
    db.session.add(rule)
    db.session.flush()
    audit_record(actor, "routing.rule_add", "routing_rule", rule.id, department.id,
                 to_state=f"{department.code}:{priority}", detail=f"phrase={phrase}")
    db.session.commit()
    return rule


def _phrase_errors(phrase: str) -> list[FieldError]:
    if not text_normalise(phrase):
        return [FieldError("phrase", _("must contain at least one letter or digit"))]
    if len(phrase) > MAX_PHRASE:
        return [FieldError("phrase", _("is longer than %(n)d characters", n=MAX_PHRASE))]
    return []


def integrity_phrase_add(phrase: str, *, actor: Any) -> IntegrityPhrase:
    """Add an integrity phrase: feedback mentioning it goes to the integrity unit (audited)."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    phrase = " ".join((phrase or "").split())
    normalised = text_normalise(phrase)
    errors = _phrase_errors(phrase)
    if not errors and db.session.scalar(select(IntegrityPhrase.id).where(
            IntegrityPhrase.normalised == normalised).limit(1)) is not None:
        errors.append(FieldError("phrase", _("is already an integrity phrase")))
    if errors:
        raise ValidationError(errors)
    item = IntegrityPhrase(phrase=phrase, normalised=normalised)
    db.session.add(item)
    db.session.flush()
    audit_record(actor, "routing.integrity_add", "integrity_phrase", item.id, None,
                 detail=f"phrase={phrase}")
    db.session.commit()
    return item


def integrity_phrase_delete(phrase_id: int, *, actor: Any) -> None:
    """Delete an integrity phrase (reports already routed by it stay where they are; audited)."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    item = db.session.get(IntegrityPhrase, phrase_id)
    if item is None:
        raise NotFound(str(phrase_id))
    audit_record(actor, "routing.integrity_delete", "integrity_phrase", item.id, None,
                 detail=f"phrase={item.phrase}")
    db.session.delete(item)
    db.session.commit()


def _integrity_phrases_alphabetically() -> Select:
    """Select the integrity phrases by their normal form (how an administrator scans them)."""
    return select(IntegrityPhrase).order_by(IntegrityPhrase.normalised, IntegrityPhrase.id)


def integrity_phrase_list(actor: Any) -> list[IntegrityPhrase]:
    """Return every integrity phrase, alphabetically (admin only)."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    return list(db.session.scalars(_integrity_phrases_alphabetically()))


def integrity_phrase_page(
    actor: Any, page: int = 1, per_page: int = LIST_PAGE_SIZE
) -> Pagination:
    """Return a page of the integrity phrases, alphabetically (admin only)."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    return paginate(_integrity_phrases_alphabetically(), page, per_page, LIST_PAGE_MAX)


def _unit_set(department_code: str, actor: Any, flag: str,
              previous: Department | None) -> Department:
    """Give one department a unit flag (``is_triage_unit``, ``is_integrity_unit``), take it
    from every other, audit the move from ``previous`` and commit."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    department = _department_by_code(department_code)
    db.session.execute(
        update(Department).where(Department.id != department.id).values({flag: False}))
    setattr(department, flag, True)
    action = "routing." + flag.removeprefix("is_")
    audit_record(actor, action, "department", department.id, department.id,
                 from_state=previous.code if previous is not None else None,
                 to_state=department.code)
    db.session.commit()
    return department


def routing_integrity_unit_set(department_code: str, *, actor: Any) -> Department:
    """Mark one department as the integrity unit (and no other; audited).

    Integrity reports already filed stay with the unit that has them: moving them is a
    transfer, with its reason, by whoever handles them.
    """
    return _unit_set(department_code, actor, "is_integrity_unit", integrity_unit())


def routing_rule_delete(rule_id: int, *, actor: Any) -> None:
    """Delete a routing rule (feedback already routed by it keeps its stored reason; audited)."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(str(rule_id))
    audit_record(actor, "routing.rule_delete", "routing_rule", rule.id, rule.department_id,
                 from_state=f"{rule.department.code}:{rule.priority}",
                 detail=f"phrase={rule.phrase}")
    db.session.delete(rule)
    db.session.commit()


def routing_rule_list(actor: Any) -> list[RoutingRule]:
    """Return every routing rule in the order they win: priority, length, age (admin only)."""
    require_permission(actor, Permission.ROUTING_MANAGE)
    return list(db.session.scalars(select(RoutingRule).order_by(*_RULE_PRECEDENCE)))


def routing_rule_page(
    actor: Any, department_code: str | None = None, phrase: str = "", page: int = 1,
    per_page: int = LIST_PAGE_SIZE,
) -> Pagination:
    """Return a page of the routing rules in the order they win (admin only).

    Optionally only one department's, or only those whose phrase contains ``phrase``
    (compared in normal form: case, accents and punctuation do not matter).
    """
    require_permission(actor, Permission.ROUTING_MANAGE)
    stmt = (select(RoutingRule).order_by(*_RULE_PRECEDENCE)
            .options(selectinload(RoutingRule.department)))
    if department_code:
        stmt = stmt.join(RoutingRule.department).where(Department.code == department_code)
    if needle := text_normalise(phrase):
        stmt = stmt.where(RoutingRule.normalised.contains(needle, autoescape=True))
    return paginate(stmt, page, per_page, LIST_PAGE_MAX)


# Demo set-up: the Organisation Bureau (in charge of public-service management) as the
# triage unit, the Inspektorat as the integrity unit, a few rules for subjects citizens often
# write about, and integrity phrases.
DEMO_TRIAGE_UNIT = "biro-organisasi"
DEMO_INTEGRITY_UNIT = "inspektorat"
DEMO_INTEGRITY_PHRASES = (
    "pungli", "pungutan liar", "suap", "menyuap", "disuap", "uang pelicin", "uang rokok",
    "gratifikasi", "pemerasan", "diperas", "korupsi", "bribe", "bribery", "extortion",
)
DEMO_RULES = (
    ("dpupr", "jalan rusak", 10),
    ("dpupr", "jembatan", 5),
    ("dlh", "pencemaran", 10),
    ("dlh", "sampah", 5),
    ("dinkes", "puskesmas", 5),
    ("disdukcapil", "ktp", 5),
    ("bapenda", "pajak kendaraan", 10),
    ("bpbd", "banjir", 10),
)


def routing_demo_load() -> int:
    """Mark the demo triage and integrity units, add the demo rules and integrity phrases, once.

    Return the routing rules added. Idempotent: does nothing to a unit, rules or phrases an
    administrator already set up.
    """
    codes = {d.code: d for d in db.session.scalars(select(Department))}
    if triage_unit() is None and DEMO_TRIAGE_UNIT in codes:
        codes[DEMO_TRIAGE_UNIT].is_triage_unit = True
    if integrity_unit() is None and DEMO_INTEGRITY_UNIT in codes:
        codes[DEMO_INTEGRITY_UNIT].is_integrity_unit = True
    if db.session.scalars(select(IntegrityPhrase)).first() is None:
        db.session.add_all(IntegrityPhrase(phrase=phrase, normalised=text_normalise(phrase))
                           for phrase in DEMO_INTEGRITY_PHRASES)
    added = 0
    if db.session.scalars(select(RoutingRule)).first() is None:
        for code, phrase, priority in DEMO_RULES:
            if code in codes:
                db.session.add(RoutingRule(department=codes[code], phrase=phrase,
                                           normalised=text_normalise(phrase),
                                           priority=priority))
                added += 1
    db.session.commit()
    return added


def routing_triage_unit_set(department_code: str, *, actor: Any) -> Department:
    """Mark one department as the triage unit (and no other; audited)."""
    return _unit_set(department_code, actor, "is_triage_unit", triage_unit())
