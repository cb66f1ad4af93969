"""Logins through the province under way (state, nonce, PKCE verifier) and one-time login codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from owkernel.db import UtcDateTime


class ProvinceLogin(Base):
    """One authorization request sent to the province, awaiting its callback (usable once).

    Kept in the database, not in a cookie or in memory: the callback may reach another replica.
    """

    __tablename__ = "province_logins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    return_to: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProvinceLoginCode(Base):
    """The one-time code the console trades for a token pair, stored only as its SHA-256."""

    __tablename__ = "province_login_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
