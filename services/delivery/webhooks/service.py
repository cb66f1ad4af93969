"""Courier webhooks: Standard Webhooks verification, the report a courier posts, what the audit keeps,
and ``receive``, which takes one webhook through them to the shipment it reports on.

Every webhook leaves an audit row, whatever we make of it, so a rejection is an ``Answer`` the
route returns as a problem response (not an exception): the request's transaction then commits
the audit row and nothing else. A verified webhook's body is kept whole; one refused before its
sender was proven keeps only a sample (``kept_body``), and the pruning job keeps it briefly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import WebhookVerificationError

from owkernel.errors import validation_field_errors
from owkernel.kernel import clock_of
from services.delivery.partners.secrets import CourierSecrets
from services.delivery.settings import DeliverySettings
from services.delivery.shipments import service as shipments
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


# --- one webhook, received ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the route answers: 200 with ``content``, or a problem of ``status`` with ``detail`` and ``extra``."""

    status: int
    content: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


async def receive(
    session: AsyncSession,
    *,
    settings: DeliverySettings,
    secrets: CourierSecrets,
    carrier: str,
    body: bytes,
    headers: dict[str, str],
) -> Answer:
    """Verify, audit and apply a courier's status report; a replayed webhook id changes nothing.

    ``headers`` are the request's, with lower-case names.
    """
    reception = _Reception(session, settings=settings, carrier=carrier, body=body, headers=headers)
    refused = _refusal(secrets, carrier=carrier, body=body, headers=headers, limit=settings.max_webhook_bytes)
    if refused is not None:
        status, outcome, detail = refused
        return await reception.reject(status, outcome, detail)
    return await _apply(session, reception, carrier=carrier, body=body, webhook_id=headers["webhook-id"])


def _refusal(
    secrets: CourierSecrets, *, carrier: str, body: bytes, headers: dict[str, str], limit: int
) -> tuple[int, str, str] | None:
    """Why a webhook is refused before its body is read as a report (status, outcome, detail), if it is."""
    if len(body) > limit:
        return 413, "too_large", f"A webhook body is at most {limit} bytes."
    if carrier not in secrets.by_carrier:
        return 404, "unknown_carrier", f"No courier partner {carrier!r} is under contract."
    rejection = verify(secrets, carrier=carrier, body=body, headers=headers)
    if rejection is not None:
        return 401, rejection.outcome, rejection.detail
    webhook_id = headers["webhook-id"]
    if len(webhook_id) > 200:
        return 422, "invalid", "The webhook-id is longer than 200 characters."
    if "\x00" in webhook_id:
        return 422, "invalid", "The webhook-id holds a NUL character."
    return None


async def _apply(session: AsyncSession, reception: _Reception, *, carrier: str, body: bytes, webhook_id: str) -> Answer:
    """A verified webhook: its report applied to the carrier's parcel, once per webhook id."""
    # A verified id that was applied before is a replay whatever its body says. A report is
    # claimed (one INSERT that is the replay check too) before it moves its parcel, and the claim
    # is let go if the carrier has no such parcel; a report that cannot apply asks whether its id
    # was applied before, so a replay is still answered as one.
    try:
        report = CourierReport.model_validate_json(body)
    except ValidationError as exc:
        if await repository.already_processed(session, carrier=carrier, webhook_id=webhook_id):
            return await reception.replay()
        errors = validation_field_errors(exc.errors())
        return await reception.reject(422, "invalid", "The webhook body is not a courier status report.", errors=errors)
    if not await repository.claim(session, carrier=carrier, webhook_id=webhook_id):
        return await reception.replay()
    shipment, applied = await shipments.apply_courier_report(
        session,
        carrier=carrier,
        tracking_no=report.tracking_no,
        status=report.status,
        at=report.at,
        webhook_id=webhook_id,
        reason=report.reason,
    )
    if shipment is None:
        await repository.unclaim(session, carrier=carrier, webhook_id=webhook_id)
        detail = f"No shipment of {carrier} has tracking number {report.tracking_no}."
        return await reception.reject(404, "unknown_tracking", detail)
    outcome = "accepted" if applied else "not_applied"
    content = {
        "received": True,
        "replay": False,
        "applied": applied,
        "shipment_id": shipment.id,
        "status": shipment.status,
    }
    return await reception.answer(outcome, content, shipment_id=shipment.id)


def _storable(text: str) -> str:
    """Untrusted text as a column can keep it: PostgreSQL refuses the NUL character."""
    return text.replace("\x00", "\ufffd")


class _Reception:
    """One webhook's audit row and the answer that goes with it.

    The row is staged only once its fields are final (every answer goes through ``answer`` or
    ``reject``), as a plain row written with the commit's other staged rows: one INSERT, and
    neither an ORM object for the unit of work to flush nor an id to read back (issue 22).
    """

    def __init__(
        self, session: AsyncSession, *, settings: DeliverySettings, carrier: str, body: bytes, headers: dict[str, str]
    ) -> None:
        self.session, self.settings, self.body = session, settings, body
        self.receipt: dict[str, Any] = {
            "carrier": _storable(carrier[:40]),
            "webhook_id": _storable(headers.get("webhook-id") or "")[:200] or None,
            "webhook_timestamp": _storable(headers.get("webhook-timestamp") or "")[:40] or None,
            "signature": _storable(headers.get("webhook-signature") or "")[:1000] or None,
            "body_bytes": len(body),
            "detail": None,
            "shipment_id": None,
            "received_at": clock_of(session).now(),
        }

    async def answer(self, outcome: str, content: dict[str, Any], *, shipment_id: str | None = None) -> Answer:
        """A 200 answer, audited with ``outcome``."""
        self.receipt["shipment_id"] = shipment_id
        await self._keep(outcome)
        return Answer(status=200, content=content)

    async def reject(self, status: int, outcome: str, detail: str, **extra: Any) -> Answer:
        """A problem answer, audited with ``outcome`` and its detail."""
        self.receipt["detail"] = _storable(detail[:500])
        await self._keep(outcome)
        return Answer(status=status, detail=detail, extra=extra)

    async def replay(self) -> Answer:
        """The answer to a webhook id applied before."""
        return await self.answer("replay", {"received": True, "replay": True, "applied": False})

    async def _keep(self, outcome: str) -> None:
        kept = kept_body(self.body, refused=outcome in REFUSED, settings=self.settings)
        self.receipt["body"] = _storable(kept.decode("utf-8", errors="replace"))
        self.receipt["outcome"] = outcome
        await repository.add_receipt(self.session, self.receipt)
