"""The figures' read model: what each accepted application, project stage and catalog stage item
contributes, plus the monthly figures imported from before the platform went live."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.rating.db import Base


class FigureApplication(Base):
    """One accepted application as the figures count it (months in the hall's calendar)."""

    __tablename__ = "figure_applications"
    __table_args__ = (
        Index("ix_figure_applications_accepted_month", "accepted_month", "hall"),
        Index("ix_figure_applications_decided_month", "decided_month", "hall"),
    )

    application_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    hall: Mapped[str] = mapped_column(String(20))
    accepted_month: Mapped[str] = mapped_column(String(7))
    # online | window | unknown (from a producer older than the channel).
    channel: Mapped[str] = mapped_column(String(8))
    secret: Mapped[bool] = mapped_column(Boolean)
    deferred: Mapped[bool] = mapped_column(Boolean)
    # The month it was decided (approved or rejected): trips count per completed application.
    decided_month: Mapped[str | None] = mapped_column(String(7))


class FigureProject(Base):
    """An investment project, counted in the month and hall of its first accepted application."""

    __tablename__ = "figure_projects"
    __table_args__ = (Index("ix_figure_projects_month", "month", "hall"),)

    project_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    hall: Mapped[str] = mapped_column(String(20))
    month: Mapped[str] = mapped_column(String(7))
    investment_fen: Mapped[int] = mapped_column(BigInteger)
    key_project: Mapped[bool] = mapped_column(Boolean)


class FigureStageUse(Base):
    """The working days one approved project stage really used."""

    __tablename__ = "figure_stage_uses"

    application_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_no: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[int] = mapped_column(Integer)
    working_days_used: Mapped[int] = mapped_column(Integer)


class FigureStageItem(Base):
    """A catalog item that is a project stage, as its latest version stands."""

    __tablename__ = "figure_stage_items"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    departments: Mapped[list[str]] = mapped_column(JSON)
    committed_days: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


class FigureHistory(Base):
    """A month's figures as the center published them before the platform went live (imported)."""

    __tablename__ = "figure_history"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    hall: Mapped[str] = mapped_column(String(20), primary_key=True)
    applications: Mapped[int] = mapped_column(Integer)
    online_share: Mapped[float | None] = mapped_column(Float)
    zero_trip_share: Mapped[float | None] = mapped_column(Float)
    one_trip_share: Mapped[float | None] = mapped_column(Float)
    deferred_share: Mapped[float | None] = mapped_column(Float)
    on_time_rate: Mapped[float | None] = mapped_column(Float)
    red_cards: Mapped[int] = mapped_column(Integer)
    consultations_on_time_rate: Mapped[float | None] = mapped_column(Float)
    satisfaction_rate: Mapped[float | None] = mapped_column(Float)
    projects_count: Mapped[int] = mapped_column(Integer)
    projects_key: Mapped[int] = mapped_column(Integer)
    projects_investment_fen: Mapped[int] = mapped_column(BigInteger)
    imported_by: Mapped[str] = mapped_column(String(120))
