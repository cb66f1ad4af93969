"""Application tables: the application, its materials, waits, timeline, visits and numbers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from owkernel.tables import BigId
from services.intake.db import Base


class Application(Base):
    """One application, from draft to completed, under the item version it was made with."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    item_code: Mapped[str] = mapped_column(String(40))
    item_version: Mapped[int] = mapped_column(Integer)
    item_name: Mapped[str] = mapped_column(String(200))
    item_trips: Mapped[int] = mapped_column(Integer)
    # The item as it was (ItemSnapshot fields plus its materials): the application keeps it.
    item: Mapped[dict[str, Any]] = mapped_column(JSON)
    window: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # online | window
    # The hall it is made at (the clerk's at a window, else the one the applicant named: "CITY" by default).
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    # The hall whose clerk accepted it (the accepting clerk's): supervision and figures count it there.
    accepted_hall: Mapped[str | None] = mapped_column(String(20))
    applicant_id_number: Mapped[str] = mapped_column(String(32))
    applicant_kind: Mapped[str] = mapped_column(String(12))
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_phone: Mapped[str | None] = mapped_column(String(40))
    applicant_subject_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(120))
    clerk: Mapped[str | None] = mapped_column(String(120))
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    delivery: Mapped[dict[str, Any]] = mapped_column(JSON)
    project_no: Mapped[str | None] = mapped_column(String(32), index=True)
    stage: Mapped[int | None] = mapped_column(Integer)
    fee_fen: Mapped[int] = mapped_column(Integer)
    payment_status: Mapped[str] = mapped_column(String(16))  # not_required | unpaid | paid
    payment_id: Mapped[str | None] = mapped_column(String(64))
    paid_amount_fen: Mapped[int | None] = mapped_column(Integer)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    deadline: Mapped[date | None] = mapped_column(Date)
    working_days_used: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        # Keyset pages: newest first, for one applicant or one status however deep.
        Index("ix_applications_applicant_id", "applicant_id_number", "id"),
        Index("ix_applications_status_id", "status", "id"),
        Index("ix_applications_item_code_id", "item_code", "id"),
        Index("ix_applications_hall_id", "hall", "id"),
    )


class ApplicationFacts(Protocol):
    """An application as a step reads it: a mapped ``Application``, or the row the step's
    ``UPDATE ... RETURNING`` gave back (every column, by name), never loaded as an object."""

    @property
    def id(self) -> int: ...
    @property
    def application_no(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def item_code(self) -> str: ...
    @property
    def item_version(self) -> int: ...
    @property
    def item_name(self) -> str: ...
    @property
    def item_trips(self) -> int: ...
    @property
    def item(self) -> dict[str, Any]: ...
    @property
    def window(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def hall(self) -> str: ...
    @property
    def accepted_hall(self) -> str | None: ...
    @property
    def applicant_id_number(self) -> str: ...
    @property
    def applicant_kind(self) -> str: ...
    @property
    def applicant_name(self) -> str: ...
    @property
    def applicant_phone(self) -> str | None: ...
    @property
    def applicant_subject_id(self) -> str | None: ...
    @property
    def created_by(self) -> str: ...
    @property
    def clerk(self) -> str | None: ...
    @property
    def form(self) -> dict[str, Any]: ...
    @property
    def delivery(self) -> dict[str, Any]: ...
    @property
    def project_no(self) -> str | None: ...
    @property
    def stage(self) -> int | None: ...
    @property
    def fee_fen(self) -> int: ...
    @property
    def payment_status(self) -> str: ...
    @property
    def payment_id(self) -> str | None: ...
    @property
    def paid_amount_fen(self) -> int | None: ...
    @property
    def paid_at(self) -> datetime | None: ...
    @property
    def certificate(self) -> dict[str, Any] | None: ...
    @property
    def deadline(self) -> date | None: ...
    @property
    def working_days_used(self) -> int | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def accepted_at(self) -> datetime | None: ...
    @property
    def decided_at(self) -> datetime | None: ...
    @property
    def completed_at(self) -> datetime | None: ...


class ApplicationDepartment(Base):
    """The departments an application is routed to (what their staff may see)."""

    __tablename__ = "application_departments"

    application_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index("ix_application_departments_department", "department", "application_id"),)


_WAITING = "is_deferred AND supplied_at IS NULL AND overdue_at IS NULL"


class ApplicationMaterial(Base):
    """A material of an application: uploaded, or deferred (容缺) and later supplied."""

    __tablename__ = "application_materials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    critical: Mapped[bool] = mapped_column(Boolean)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(String(200))
    uploaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    uploaded_by: Mapped[str | None] = mapped_column(String(120))
    is_deferred: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    supplied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("application_id", "code", name="uq_application_materials_application_id_code"),
        # Whether any material still refers to a stored file, before the file is deleted.
        Index("ix_application_materials_sha256", "sha256"),
        # The overdue scan reads only deferred materials still missing, by due date.
        Index(
            "ix_application_materials_waiting",
            "due_date",
            postgresql_where=text(_WAITING),
            sqlite_where=text(_WAITING),
        ),
    )


class MaterialFacts(Protocol):
    """A material as a step or the view reads it: a mapped ``ApplicationMaterial``, or a row of the
    materials read through the table (``repository.materials_of``), never loaded as an object."""

    @property
    def id(self) -> int: ...
    @property
    def application_id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def critical(self) -> bool: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def filename(self) -> str | None: ...
    @property
    def uploaded_at(self) -> datetime | None: ...
    @property
    def uploaded_by(self) -> str | None: ...
    @property
    def is_deferred(self) -> bool: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def supplied_at(self) -> datetime | None: ...
    @property
    def overdue_at(self) -> datetime | None: ...


class FileRelease(Base):
    """A stored file a committed change stopped referring to (a replaced material, a deleted draft).

    Written in the transaction that made the change, so a rollback leaves no release behind and
    never deletes a file still in use; the release job deletes the file unless another material
    (any application's: files are stored once by content) still refers to it.
    """

    __tablename__ = "file_releases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64))
    released_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Suspension(Base):
    """A wait for the applicant (an unpaid fee; a deferred material under the old 容缺 rule): the clock stops."""

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("application_id", "key", name="uq_suspensions_application_id_key"),)


class TimelineEntry(Base):
    """One step of an application, whichever service made it."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    event: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class TimelineFacts(Protocol):
    """A step as the view shows it: a ``TimelineEntry``, or a row of the timeline read through the
    table (``repository.timeline_of``), never loaded as an object."""

    @property
    def at(self) -> datetime: ...
    @property
    def event(self) -> str: ...
    @property
    def detail(self) -> dict[str, Any]: ...


class Visit(Base):
    """A trip the applicant actually made: at the window, to an appointment, to pick up."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_number: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # window | appointment | pickup
    window: Mapped[str | None] = mapped_column(String(20))
    application_no: Mapped[str | None] = mapped_column(String(32), index=True)
    item_code: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The hall's date of the visit: several steps on one day are one trip.
    day: Mapped[date] = mapped_column(Date)


class Sequence(Base):
    """Counters behind readable numbers (one per year and window)."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
