"""Reminders to staff: each is a row written with its cause, then delivered and retried."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.approval.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")
PENDING = "status = 'pending'"


class Notification(Base):
    """One push to a department's staff (a task turned yellow or red, a daily digest), or to an
    applicant (a deferred material past its deadline)."""

    __tablename__ = "staff_notifications"
    __table_args__ = (
        Index(
            "ix_staff_notifications_due", "next_attempt_at", postgresql_where=text(PENDING), sqlite_where=text(PENDING)
        ),
        Index("ix_staff_notifications_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # One reminder per cause: "card:<card id>", "digest:<department>:<date>".
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # task_yellow | task_red | digest | applicant_material
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    application_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class NotificationAttempt(Base):
    """One delivery attempt of a notification, successful or not."""

    __tablename__ = "staff_notification_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("staff_notifications.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    adapter: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column()
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
