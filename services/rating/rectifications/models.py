"""Rectification cases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class Rectification(Base):
    """A bad review's or an inspection finding's follow-up, on approval's supervision clock."""

    __tablename__ = "rectifications"
    __table_args__ = (
        Index("ix_rectifications_status_opened", "status", "opened_at"),
        Index("ix_rectifications_department_opened", "department", "opened_at"),
    )

    rectification_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))  # review | inspection
    review_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    inspection_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    department: Mapped[str] = mapped_column(String(80))
    window: Mapped[str | None] = mapped_column(String(40))
    application_no: Mapped[str | None] = mapped_column(String(40))
    item_code: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    # What is to be rectified: the review's comment or the inspection's problem.
    complaint: Mapped[str | None] = mapped_column(Text)
    # open | appealed | rectified | annulled
    status: Mapped[str] = mapped_column(String(16))
    due_working_days: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # From approval's supervision engine (it owns the working-day calendar).
    clock_id: Mapped[str | None] = mapped_column(String(60))
    due_date: Mapped[date | None] = mapped_column(Date)
    card: Mapped[str | None] = mapped_column(String(8))  # None | yellow | red
    card_raised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The return visit: the applicant's account of what happened.
    visit_account: Mapped[str | None] = mapped_column(Text)
    visit_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    visited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    visited_by: Mapped[str | None] = mapped_column(String(120))
    # The appeal of the department and the supervisor's decision.
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_by: Mapped[str | None] = mapped_column(String(120))
    appealed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    appeal_decision: Mapped[str | None] = mapped_column(String(16))  # upheld | dismissed
    appeal_opinion: Mapped[str | None] = mapped_column(Text)
    appeal_decided_by: Mapped[str | None] = mapped_column(String(120))
    appeal_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The result, published when the case closes.
    result: Mapped[str | None] = mapped_column(Text)
    result_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
