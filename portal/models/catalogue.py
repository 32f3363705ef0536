"""Departments, their services, and the public histories of work mode and commitment."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.domain.search import search_text
from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow

WORK_MODES = ("onsite", "hybrid", "wfa")
COMMITMENT_UNITS = ("working_days", "hours")
STANDARD_FIELDS = ("requirements", "procedure", "cost", "product", "hours")
# The DPRD commissions that oversee departments (DOMAIN.md, "DPRD commissions").
DPRD_COMMISSIONS = ("I", "II", "III", "IV")
# A name's sort key: compared as code points by both databases (PostgreSQL's default collation
# would order by the server's locale, SQLite's BINARY does not).
_NAME_KEY = String(900).with_variant(String(900, collation="C"), "postgresql")


def name_keys(name_id: str, name_en: str) -> tuple[str, str]:
    """Return a service's sort keys by name, Indonesian and English: the names casefolded,
    the Indonesian one standing in for a missing English one (the lists' order)."""
    return (name_id or "").casefold(), (name_en or name_id or "").casefold()


class Department(db.Model):
    """A department (OPD) of the provincial government."""

    __tablename__ = "department"
    __table_args__ = (
        CheckConstraint(
            "dprd_commission IS NULL OR dprd_commission IN ('I', 'II', 'III', 'IV')",
            name="dprd_commission",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_id: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    # The name people use (Bapenda, Dinkes, DPMPTSP); searched, shown beside the name.
    short_name: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # The DPRD commission that oversees the department (I-IV), None when not assigned.
    dprd_commission: Mapped[str | None] = mapped_column(String(3))
    # Where to go: the office, for every service of the department that does not say otherwise.
    address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(60), default="", server_default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    hours_id: Mapped[str] = mapped_column(Text, default="", server_default="")
    hours_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Normalised words of its code, names and short name, kept on every write (search).
    search_names: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The province's complaint-management unit routes what no rule can route.
    is_triage_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    # The integrity unit (the Inspektorat) handles integrity reports (feedback routing rule 0).
    is_integrity_unit: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    services: Mapped[list[Service]] = relationship(
        back_populates="department", order_by="Service.name_id"
    )


class Service(db.Model):
    """A public service and its current work mode and commitment (histories kept aside)."""

    __tablename__ = "service"
    __table_args__ = (
        # The service lists' order by name, read a page at a time (see name_key_id).
        Index("ix_service_name_key_id", "name_key_id", "id"),
        Index("ix_service_name_key_en", "name_key_en", "id"),
        CheckConstraint("work_mode IN ('onsite', 'hybrid', 'wfa')", name="work_mode"),
        CheckConstraint("commitment_unit IN ('working_days', 'hours')", name="unit"),
        CheckConstraint("commitment_value >= 0", name="commitment_value"),
        CheckConstraint("on_time_target > 0 AND on_time_target <= 1", name="on_time_target"),
        CheckConstraint(
            "(first_response_value IS NULL AND first_response_unit IS NULL) OR "
            "(first_response_value >= 0 AND first_response_unit IN ('working_days', 'hours'))",
            name="first_response",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name_id: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    # The lists' sort keys, kept from the names on every write (see _keep_name_keys): the name
    # casefolded, in Indonesian and in English (the Indonesian name when there is no English
    # one). Compared as code points by both databases (SQLite's BINARY, PostgreSQL's "C"),
    # the order Python's sorted() gives the same keys.
    name_key_id: Mapped[str] = mapped_column(_NAME_KEY, default="", server_default="")
    name_key_en: Mapped[str] = mapped_column(_NAME_KEY, default="", server_default="")
    work_mode: Mapped[str] = mapped_column(String(10))
    work_mode_since: Mapped[date | None] = mapped_column(Date)
    commitment_value: Mapped[int] = mapped_column(Integer)
    commitment_unit: Mapped[str] = mapped_column(String(20))
    on_time_target: Mapped[float] = mapped_column(Float, default=0.90)
    # The time within which the service promises a first response, in the same units as the
    # commitment; None (both) when it makes no such promise: no first-response rate then.
    first_response_value: Mapped[int | None] = mapped_column(Integer)
    first_response_unit: Mapped[str | None] = mapped_column(String(20))
    online_url: Mapped[str] = mapped_column(String(500), default="")
    # The published standar pelayanan, in both languages.
    requirements_id: Mapped[str] = mapped_column(Text, default="")
    requirements_en: Mapped[str] = mapped_column(Text, default="")
    procedure_id: Mapped[str] = mapped_column(Text, default="")
    procedure_en: Mapped[str] = mapped_column(Text, default="")
    cost_id: Mapped[str] = mapped_column(Text, default="")
    cost_en: Mapped[str] = mapped_column(Text, default="")
    product_id: Mapped[str] = mapped_column(Text, default="")
    product_en: Mapped[str] = mapped_column(Text, default="")
    hours_id: Mapped[str] = mapped_column(Text, default="")
    hours_en: Mapped[str] = mapped_column(Text, default="")
    # Words people use for the service, comma-separated (e.g. "samsat, pajak motor").
    keywords_id: Mapped[str] = mapped_column(Text, default="", server_default="")
    keywords_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Where to go when it is not the department's office (empty/None: the department's).
    address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(60), default="", server_default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Normalised words for search, kept by the catalogue import: names, keywords and the
    # department's names ("search_names", ranked first), and the published standard's texts.
    search_names: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_texts: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department] = relationship(back_populates="services")
    work_mode_history: Mapped[list[WorkModeChange]] = relationship(
        order_by="(WorkModeChange.effective_from.desc().nulls_last(), WorkModeChange.id.desc())",
        cascade="all, delete-orphan",
    )
    commitment_history: Mapped[list[CommitmentChange]] = relationship(
        order_by="(CommitmentChange.effective_from.desc().nulls_last(), "
        "CommitmentChange.id.desc())",
        cascade="all, delete-orphan",
    )


# What a service is found by: its names, code and keywords (ranked first), then its texts.
SEARCH_NAME_FIELDS = ("name_id", "name_en", "code", "keywords_id", "keywords_en")
SEARCH_TEXT_FIELDS = tuple(f"{name}_{lang}" for name in STANDARD_FIELDS for lang in ("id", "en"))


def service_search_words(service: Service) -> tuple[str, str]:
    """Return a service's stored search words: (names and keywords, standard texts)."""
    names = [(getattr(service, f) or "").replace(",", " ") for f in SEARCH_NAME_FIELDS]
    texts = [getattr(service, f) or "" for f in SEARCH_TEXT_FIELDS]
    return search_text(names), search_text(texts)


@event.listens_for(Service, "before_insert")
@event.listens_for(Service, "before_update")
def _keep_search_words(_mapper, _connection, service: Service) -> None:
    """Keep a service's search words in step with its names, keywords and texts, on any write.

    Every way a service is written (import, staff pages, tests) goes through here, so search
    never misses a service. Only a change of one of those fields recomputes them.
    """
    state = inspect(service)
    fields = SEARCH_NAME_FIELDS + SEARCH_TEXT_FIELDS
    if state.persistent and not any(state.attrs[f].history.has_changes() for f in fields):
        return
    service.search_names, service.search_texts = service_search_words(service)


@event.listens_for(Service, "before_insert")
@event.listens_for(Service, "before_update")
def _keep_name_keys(_mapper, _connection, service: Service) -> None:
    """Keep a service's sort keys (name_key_id, name_key_en) in step with its names."""
    keys = name_keys(service.name_id, service.name_en)
    if (service.name_key_id, service.name_key_en) != keys:
        service.name_key_id, service.name_key_en = keys


DEPARTMENT_SEARCH_FIELDS = ("code", "name_id", "name_en", "short_name")


@event.listens_for(Department, "before_insert")
@event.listens_for(Department, "before_update")
def _keep_department_search_words(_mapper, _connection, department: Department) -> None:
    """Keep a department's search words in step with its code, names and short name."""
    state = inspect(department)
    if state.persistent and not any(
        state.attrs[f].history.has_changes() for f in DEPARTMENT_SEARCH_FIELDS
    ):
        return
    department.search_names = search_text(
        [getattr(department, f) or "" for f in DEPARTMENT_SEARCH_FIELDS])


class WorkModeChange(db.Model):
    """One dated entry of a service's public work-mode history."""

    __tablename__ = "work_mode_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    work_mode: Mapped[str] = mapped_column(String(10))
    # None means "since before the portal's records begin".
    effective_from: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who recorded it: a username, or "import" for the catalogue importer.
    recorded_by: Mapped[str] = mapped_column(String(120), default="import")
    reason: Mapped[str] = mapped_column(Text, default="")


class CommitmentChange(db.Model):
    """One dated entry of a service's public commitment history."""

    __tablename__ = "commitment_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    commitment_value: Mapped[int] = mapped_column(Integer)
    commitment_unit: Mapped[str] = mapped_column(String(20))
    on_time_target: Mapped[float] = mapped_column(Float)
    # The first-response commitment in force from that date (None: no such promise).
    first_response_value: Mapped[int | None] = mapped_column(Integer)
    first_response_unit: Mapped[str | None] = mapped_column(String(20))
    effective_from: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(120), default="import")
    reason: Mapped[str] = mapped_column(Text, default="")


class ServicePointer(db.Model):
    """Where to go for a service the province does not provide (e.g. KTP: regency Disdukcapil).

    Catalogue data, loaded from its own import file; shown when a search matches it.
    """

    __tablename__ = "service_pointer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # What people look for, e.g. "KTP-el, Kartu Keluarga, akta kelahiran".
    topic_id: Mapped[str] = mapped_column(String(300))
    topic_en: Mapped[str] = mapped_column(String(300), default="")
    # Who provides it instead, e.g. "the Disdukcapil office of your regency or city".
    where_id: Mapped[str] = mapped_column(Text, default="")
    where_en: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    keywords_id: Mapped[str] = mapped_column(Text, default="")
    keywords_en: Mapped[str] = mapped_column(Text, default="")
    # Normalised words of the topic and keywords, kept by the import.
    search_names: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CalendarDay(db.Model):
    """An administrator's exception to the national calendar for one WIB date."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # False: an extra non-working day; True: a holiday or weekend marked as a working day.
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(300), default="")


class SiteSetting(db.Model):
    """A small key/value fact about the installation (e.g. that demo data is loaded)."""

    __tablename__ = "site_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
