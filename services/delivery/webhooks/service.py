"""Courier webhooks: Standard Webhooks verification, the report a courier posts, what the audit keeps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import WebhookVerificationError

from services.delivery.partners.secrets import CourierSecrets
from services.delivery.settings import DeliverySettings
from services.delivery.webhooks import repository

TIMESTAMP_ERRORS = ("Message timestamp too old", "Message timestamp too new")
# The library reads the timestamp with float() and decodes base64 leniently, so " 1700000000",
# "1700000000.9" or Arabic digits would pass as the signed second. None of that lets a change
# through, but a partner's webhook has one spelling: whole seconds in ASCII digits with no leading
# zero (the HMAC covers the canonical spelling, so "0…" would verify too), and for each
# v1 entry the 44-character base64 of an HMAC-SHA256. Anything else is refused before the HMAC.
STRICT_TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}")
STRICT_V1_SIGNATURE = re.compile(r"v1,[A-Za-z0-9+/]{43}=")
# Outcomes of a webhook refused before its sender was proven: anyone can send these at no cost,
# so the audit keeps a sample of each, briefly, and only the newest (``prune_receipts``).
REFUSED = ("too_large", "unknown_carrier", "bad_signature", "stale")


class CourierReport(BaseModel):
    """The body a courier posts: ``{"tracking_no","status","at"}`` (and a reason for a failure)."""

    model_config = ConfigDict(extra="ignore")

    # No NUL character: PostgreSQL's text refuses it (a 500 instead of a 422).
    tracking_no: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00]+$")
    status: Literal["picked_up", "in_transit", "delivered", "failed"]
    at: AwareDatetime
    reason: str | None = Field(default=None, max_length=300, pattern=r"^[^\x00]*$")


@dataclass(frozen=True)
class Rejection:
    """Why a webhook did not verify."""

    outcome: Literal["bad_signature", "stale"]
    detail: str


def verify(secrets: CourierSecrets, *, carrier: str, body: bytes, headers: dict[str, str]) -> Rejection | None:
    """None when any of the carrier's current secrets signed this body at an acceptable time.

    The maintained ``standardwebhooks`` implementation checks the headers, the timestamp (five
    minutes either way) and the HMAC in constant time; during a rotation two secrets are valid.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    if not STRICT_TIMESTAMP.fullmatch(lowered.get("webhook-timestamp", "")):
        return Rejection("bad_signature", "The webhook-timestamp header must be whole seconds in digits.")
    entries = lowered.get("webhook-signature", "").split(" ")
    v1 = [entry for entry in entries if entry.startswith("v1,")]
    if not v1 or not all(STRICT_V1_SIGNATURE.fullmatch(entry) for entry in v1):
        return Rejection("bad_signature", "The webhook-signature header is malformed.")
    last: Rejection = Rejection("bad_signature", "No secret of this carrier signed the webhook.")
    for verifier in secrets.verifiers(carrier):
        try:
            verifier.verify(body, headers, json_parse=False)
            return None
        except WebhookVerificationError as exc:
            message = str(exc)
            if message in TIMESTAMP_ERRORS:
                # The timestamp is the same whatever the secret: no need to try the others.
                return Rejection("stale", f"Webhook timestamp rejected: {message}.")
            last = Rejection("bad_signature", f"Signature rejected: {message}.")
        except ValueError:  # malformed signature header or base64, or a body that is not UTF-8
            last = Rejection("bad_signature", "The webhook-signature header is malformed.")
    return last


def kept_body(body: bytes, *, refused: bool, settings: DeliverySettings) -> bytes:
    """The part of a body the audit keeps: all of a verified one, the first bytes of a refused one."""
    return body[: settings.refused_webhook_sample_bytes] if refused else body[: settings.max_webhook_bytes]


async def prune_receipts(session: AsyncSession, *, now: datetime, settings: DeliverySettings, batch: int) -> int:
    """One pass of the audit's pruning, up to ``batch`` rows of each kind; how many rows went.

    Every receipt past ``webhook_receipt_retention_days``; a refused one past
    ``refused_webhook_retention_hours``, or beyond the ``refused_webhook_max_kept`` newest.
    """
    deleted = await repository.delete_received_before(
        session, cutoff=now - timedelta(days=settings.webhook_receipt_retention_days), limit=batch
    )
    deleted += await repository.delete_received_before(
        session,
        cutoff=now - timedelta(hours=settings.refused_webhook_retention_hours),
        outcomes=REFUSED,
        limit=batch,
    )
    beyond = await repository.newest_id_beyond(session, outcomes=REFUSED, keep=settings.refused_webhook_max_kept)
    if beyond is not None:
        deleted += await repository.delete_up_to(session, last_id=beyond, outcomes=REFUSED, limit=batch)
    return deleted
