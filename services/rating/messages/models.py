"""The messages sent to applicants, as the simulated SMS sender keeps them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class ApplicantMessage(Base):
    """One message to an applicant, keyed by their identity number: only they read it back."""

    __tablename__ = "applicant_messages"
    __table_args__ = (Index("ix_applicant_messages_id_number_sent_at", "id_number", "sent_at"),)

    message_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(40))
    # Personal data: the number the SMS went to, as the application gave it (None when it gave none).
    phone: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # rating_link
    text: Mapped[str] = mapped_column(Text)
    application_no: Mapped[str | None] = mapped_column(String(40))
    link_id: Mapped[str | None] = mapped_column(String(40))
    # What redeems the link: it leaves the service only towards the applicant.
    url: Mapped[str | None] = mapped_column(Text)
    token: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
