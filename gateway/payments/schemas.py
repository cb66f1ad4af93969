"""Shapes of the payment API (docs/api.md "Payment") and of the stub provider's callback."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


class PaymentOut(BaseModel):
    payment_id: str
    application_no: str
    amount_fen: int
    status: Literal["pending", "paid", "failed", "expired"]
    pay_url: str
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None = None
    failure_reason: str | None = None


class ProviderNotification(BaseModel):
    """What the payment provider posts to the callback (signed)."""

    model_config = ConfigDict(extra="ignore")

    notification_id: str = Field(min_length=1, max_length=64)
    payment_id: str = Field(min_length=1, max_length=40)
    amount_fen: int = Field(ge=0)
    status: Literal["success", "failed"]
    at: AwareDatetime
    reason: str | None = Field(default=None, max_length=200)


class CallbackOut(BaseModel):
    result: Literal["applied", "ignored", "duplicate"]
    payment_id: str
    status: str
