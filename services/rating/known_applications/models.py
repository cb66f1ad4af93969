"""Rating's copy of each accepted application (event-carried state from intake and approval)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class Application(Base):
    """An accepted application: its applicant, item, window and clerk, and whether it is decided."""

    __tablename__ = "rated_applications"

    application_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Personal data: used to check who may rate and for the return visit, never shown to staff rated.
    applicant_id_number: Mapped[str] = mapped_column(String(40), index=True)
    applicant_kind: Mapped[str] = mapped_column(String(16))
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_phone: Mapped[str | None] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(80))
    item_name: Mapped[str] = mapped_column(String(300))
    item_version: Mapped[int]
    # The department a rating of this application counts for: the lead of a parallel item, else its owner.
    department: Mapped[str] = mapped_column(String(80))
    departments: Mapped[list[str]] = mapped_column(JSON)
    window: Mapped[str] = mapped_column(String(40))
    clerk: Mapped[str | None] = mapped_column(String(120))
    # The hall that accepted it: its ratings count there.
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    decision: Mapped[str | None] = mapped_column(String(16))  # approved | rejected
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The department that rejected it (a bad review of a rejection is its case).
    rejected_by: Mapped[str | None] = mapped_column(String(80))
