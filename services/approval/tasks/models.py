"""Applications as the back office sees them, and one task per deciding department."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.approval.db import Base


class Application(Base):
    """An accepted application under review. Not a read copy (docs/conventions.md, 'read copies'):
    what it says of the application and applicant comes from intake's accepted event, but
    ``started_on`` (the first working day counted), ``status``, ``decided_at``, ``reason`` and
    ``working_days_used`` are approval's own, written by its routing and decision rules."""

    __tablename__ = "approval_applications"

    application_no: Mapped[str] = mapped_column(String(60), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(60))
    item_version: Mapped[int] = mapped_column(Integer)
    item_name: Mapped[str] = mapped_column(String(200))
    item_kind: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(60))
    departments: Mapped[list[str]] = mapped_column(JSON)
    lead_department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    committed_days: Mapped[int] = mapped_column(Integer)
    legal_days: Mapped[int] = mapped_column(Integer)
    applicant_id_number: Mapped[str] = mapped_column(String(40))
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_kind: Mapped[str] = mapped_column(String(20))
    project_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    stage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    window: Mapped[str] = mapped_column(String(20))
    clerk: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # The hall that accepted it (intake's accepted event; "CITY" when it does not say).
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    deferred_materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    accepted_at: Mapped[datetime] = mapped_column()
    started_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="in_review")  # in_review | approved | rejected
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    working_days_used: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Task(Base):
    """One department's share of the decision on an application."""

    __tablename__ = "approval_tasks"
    __table_args__ = (
        Index("ix_approval_tasks_department_status", "department", "status", "created_at", "task_id"),
        Index("ix_approval_tasks_status_created", "status", "created_at", "task_id"),
    )

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_no: Mapped[str] = mapped_column(ForeignKey("approval_applications.application_no"), index=True)
    department: Mapped[str] = mapped_column(String(60))
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | approved | rejected | cancelled
    clock_id: Mapped[str] = mapped_column(String(36))
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column()


class DeferredMaterial(Base):
    """A material accepted as missing (容缺): the review runs, but the certificate waits for it."""

    __tablename__ = "approval_deferred_materials"

    application_no: Mapped[str] = mapped_column(ForeignKey("approval_applications.application_no"), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    supplied_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Set when intake reported it past its supplement deadline: the applicant's delay.
    overdue_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ApplicationFacts(Protocol):
    """What a decision reads of an application: a mapped ``Application``, or the row the
    decision's lock read (``repository.lock_application_of_task``), never loaded as an object
    (issue 22: loading it cost more CPU than the statement)."""

    @property
    def application_no(self) -> str: ...
    @property
    def item_code(self) -> str: ...
    @property
    def item_name(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def departments(self) -> list[str]: ...
    @property
    def lead_department(self) -> str | None: ...
    @property
    def applicant_id_number(self) -> str: ...
    @property
    def applicant_name(self) -> str: ...
    @property
    def project_no(self) -> str | None: ...
    @property
    def stage(self) -> int | None: ...
    @property
    def hall(self) -> str: ...
    @property
    def deferred_materials(self) -> list[dict[str, Any]]: ...
    @property
    def status(self) -> str: ...


class TaskFacts(Protocol):
    """What a decision reads of a task: a mapped ``Task`` or a row of ``repository.tasks_of_rows``."""

    @property
    def task_id(self) -> str: ...
    @property
    def application_no(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def lead(self) -> bool: ...
    @property
    def stage(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def clock_id(self) -> str: ...
    @property
    def opinion(self) -> str | None: ...
    @property
    def decided_by(self) -> str | None: ...
    @property
    def decided_at(self) -> datetime | None: ...
