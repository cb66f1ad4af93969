"""Delivery's own copy of what it needs from an accepted application (event-carried state)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.delivery.db import Base


class DeliveryApplication(Base):
    """An accepted application: who applied, how the certificate travels, and its certificate."""

    __tablename__ = "delivery_applications"

    application_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    applicant_id_number: Mapped[str] = mapped_column(String(40), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_phone: Mapped[str | None] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(80))
    item_name: Mapped[str] = mapped_column(String(300))
    window: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str | None] = mapped_column(String(12))
    address_detail: Mapped[str | None] = mapped_column(String(500))
    recipient: Mapped[str | None] = mapped_column(String(200))
    recipient_phone: Mapped[str | None] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    certificate_no: Mapped[str | None] = mapped_column(String(80))
    certificate_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApplicationFacts(Protocol):
    """What shipping a certificate reads of an application: a mapped ``DeliveryApplication``, or
    the row its certificate's ``UPDATE ... RETURNING`` gave back, never loaded as an object."""

    @property
    def application_no(self) -> str: ...
    @property
    def applicant_id_number(self) -> str: ...
    @property
    def window(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def region_code(self) -> str | None: ...
    @property
    def address_detail(self) -> str | None: ...
    @property
    def recipient(self) -> str | None: ...
    @property
    def recipient_phone(self) -> str | None: ...
    @property
    def certificate_no(self) -> str | None: ...
