"""Accounts: persons and enterprises (by their one identity number) and staff (by username)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from owkernel.db import UtcDateTime


class Account(Base):
    """One identity that can log in."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # person | enterprise | staff
    # The login name: the resident ID number, the credit code, or the staff username.
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    # None: no password login until the proven holder sets one (PUT /api/v1/auth/password).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    department: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # "self_declared" (the number was only typed in) | "verified" (proven); staff keep the default
    # and are not concerned.
    assurance: Mapped[str] = mapped_column(String(16), server_default="self_declared", default="self_declared")
    verified_by: Mapped[str | None] = mapped_column(String(16))  # "province" | "window"
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Staff only: the code of the hall they work at ("CITY" the city's); None for persons and enterprises.
    hall: Mapped[str | None] = mapped_column(String(20))


class ActivationCode(Base):
    """The one-time code a clerk's window verification gives a person to set a password with.

    One per account (a new verification replaces it); stored only as its SHA-256, deleted when
    used or when too many wrong codes were tried against it.
    """

    __tablename__ = "activation_codes"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(64))  # the clerk's username
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EnterpriseAgent(Base):
    """A verified person a verified enterprise named to act for it (经办人)."""

    __tablename__ = "enterprise_agents"

    enterprise_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginThrottle(Base):
    """Login attempts against one account from one address, or from all (``address`` = ``"*"``).

    ``attempts`` counts attempts since the last lock or success, each from the moment it starts
    (before its password is checked); a success takes its own back. ``locks`` counts consecutive
    locks, each twice as long as the one before. ``succeeded_at`` marks an address the owner has
    logged in from: such an address is not held by the account-wide lock (service.py says why).
    """

    __tablename__ = "login_throttles"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    locks: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
