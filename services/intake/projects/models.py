"""Project tables: the project and its four stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from owkernel.tables import BigId
from services.intake.db import Base


class Project(Base):
    """An investment construction project owned by its applicant (usually an enterprise)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    investment_fen: Mapped[int] = mapped_column(BigInteger)
    key_project: Mapped[bool] = mapped_column(Boolean)
    owner_id_number: Mapped[str] = mapped_column(String(32))
    owner_kind: Mapped[str] = mapped_column(String(12))
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_subject_id: Mapped[str | None] = mapped_column(String(64))
    # "1+1+X" agency service for key projects: the officer who may act for the applicant.
    agency_officer: Mapped[str | None] = mapped_column(String(120), index=True)
    agency: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_projects_owner_id", "owner_id_number", "id"),)


class ProjectStage(Base):
    """One of a project's four stages and the application that carries it now."""

    __tablename__ = "project_stages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"))
    stage: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(40))
    application_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("applications.id"))
    working_days_used: Mapped[int | None] = mapped_column(Integer)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("project_id", "stage", name="uq_project_stages_project_id_stage"),)
