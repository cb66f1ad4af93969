"""The supervision engine's tables: clocks, their ledger, and the applicant's waits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.approval.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")

# Literal predicates (not bound parameters), so PostgreSQL's planner can prove a query implies
# the partial index's predicate even with a generic prepared plan.
RED_PENDING = "status = 'running' AND card_level < 2"
YELLOW_PENDING = "status = 'running' AND card_level < 1"
OPEN_PROVISIONAL = "provisional AND status <> 'closed'"
# The same, qualified, for queries.
Q_RED_PENDING = "supervision_clocks.status = 'running' AND supervision_clocks.card_level < 2"
Q_YELLOW_PENDING = "supervision_clocks.status = 'running' AND supervision_clocks.card_level < 1"
Q_OPEN_PROVISIONAL = "supervision_clocks.provisional AND supervision_clocks.status <> 'closed'"


class Clock(Base):
    """A deadline in working days: a task, a stage, an application, a consultation, a rectification."""

    __tablename__ = "supervision_clocks"
    __table_args__ = (
        UniqueConstraint("kind", "ref"),
        # The card scan reads only these two partial indexes: running clocks whose card is still
        # to raise, by the date it falls due; a million quiet clocks cost nothing.
        Index(
            "ix_supervision_clocks_red_pending",
            "due_date",
            postgresql_where=text(RED_PENDING),
            sqlite_where=text(RED_PENDING),
        ),
        Index(
            "ix_supervision_clocks_yellow_pending",
            "yellow_on",
            postgresql_where=text(YELLOW_PENDING),
            sqlite_where=text(YELLOW_PENDING),
        ),
        Index(
            "ix_supervision_clocks_provisional",
            "clock_id",
            postgresql_where=text(OPEN_PROVISIONAL),
            sqlite_where=text(OPEN_PROVISIONAL),
        ),
        Index("ix_supervision_clocks_department_kind", "department", "kind"),
    )

    clock_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # task | stage | application | consultation | rectification
    ref: Mapped[str] = mapped_column(String(120))
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    application_no: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    # The hall of its application ("CITY" for clocks of no application: consultations, rectifications).
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    project_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    stage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    started_on: Mapped[date] = mapped_column(Date)
    # The budget, and what the ledger added: working days the applicant kept it waiting
    # (not counted) and extensions granted (more time).
    working_days: Mapped[int] = mapped_column(Integer)
    suspended_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[date] = mapped_column(Date)
    yellow_on: Mapped[date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="running")  # running | suspended | closed
    suspended_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 0 no card yet, 1 yellow raised, 2 red raised: each color is raised once per clock.
    card_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    opened_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)


class ClockEntry(Base):
    """One line of a clock's ledger: a suspension, an extension, a recomputation, with its reason."""

    __tablename__ = "supervision_clock_ledger"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    clock_id: Mapped[str] = mapped_column(ForeignKey("supervision_clocks.clock_id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # suspension | extension | calendar
    reason: Mapped[str] = mapped_column(Text)
    # A suspension covers [from_date, to_date): the days the applicant kept the file waiting.
    from_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    to_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    working_days: Mapped[int] = mapped_column(Integer)
    due_before: Mapped[date] = mapped_column(Date)
    due_after: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column()
    by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class Suspension(Base):
    """A wait for the applicant, keyed so overlapping waits pair with their own resumption."""

    __tablename__ = "applicant_waits"
    __table_args__ = (Index("ix_applicant_waits_application_key", "application_no", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_no: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the application's current run of overlapping waits began (the clocks stopped then).
    union_started_at: Mapped[datetime] = mapped_column()


class DataFix(Base):
    """A one-time correction of existing data run at start-up (once per name, whichever replica)."""

    __tablename__ = "approval_data_fixes"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class ClockFacts(Protocol):
    """What stopping a clock reads of it: a mapped ``Clock``, or a row of
    ``repository.of_application_rows`` (a decision's clocks, never loaded as objects: issue 22)."""

    @property
    def clock_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def ref(self) -> str: ...
    @property
    def department(self) -> str | None: ...
    @property
    def application_no(self) -> str | None: ...
    @property
    def hall(self) -> str: ...
    @property
    def started_on(self) -> date: ...
    @property
    def suspended_days(self) -> int: ...
    @property
    def due_date(self) -> date: ...
    @property
    def provisional(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def card_level(self) -> int: ...
