"""Electronic certificates issued for approved applications."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from services.approval.db import Base


class Certificate(Base):
    """A certificate: its number, holder, item, issue date and the code that proves it genuine."""

    __tablename__ = "issued_certificates"

    certificate_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_no: Mapped[str] = mapped_column(String(60), unique=True)
    holder_id_number: Mapped[str] = mapped_column(String(40))
    holder_name: Mapped[str] = mapped_column(String(200))
    item_code: Mapped[str] = mapped_column(String(60))
    item_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[date] = mapped_column(Date)
    verification_code: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column()
