"""What the webhook audit keeps: a refused webhook leaves a bounded record, and receipts expire."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.delivery.settings import DeliverySettings
from services.delivery.tests.harness import Delivery, whsec
from services.delivery.webhooks.jobs import prune_expired
from services.delivery.webhooks.models import WebhookReceipt

SAMPLE = 1024  # DeliverySettings.refused_webhook_sample_bytes


async def receipts_where(delivery: Delivery, *conditions: object) -> list[WebhookReceipt]:
    """Audit rows matching the conditions, oldest first."""
    async with delivery.svc.kernel.db.transaction() as session:
        rows = await session.execute(select(WebhookReceipt).where(*conditions).order_by(WebhookReceipt.id))  # type: ignore[arg-type]
        return list(rows.scalars())


async def test_a_refused_webhook_keeps_a_sample_not_its_body(delivery: Delivery) -> None:
    _, _, shipment = await delivery.ship()
    padding = "x" * (40 * 1024)
    big = json.dumps({"tracking_no": shipment["tracking_no"], "status": "delivered", "pad": padding}).encode()
    forged_id, stranger_id = "msg_big_forged_" + uuid.uuid4().hex, "msg_big_stranger_" + uuid.uuid4().hex
    forged = await delivery.webhook(shipment["carrier"], big, secret=whsec("an attacker"), webhook_id=forged_id)
    assert forged.status_code == 401
    # A carrier nobody contracted: its secret is the caller's own, so the body proves nothing either.
    stranger = await delivery.client.post(
        "/api/v1/webhooks/couriers/acme", content=big, headers={"webhook-id": stranger_id}
    )
    assert stranger.status_code == 404
    for webhook_id, outcome in ((forged_id, "bad_signature"), (stranger_id, "unknown_carrier")):
        [receipt] = await receipts_where(delivery, WebhookReceipt.webhook_id == webhook_id)
        assert receipt.outcome == outcome
        assert receipt.body == big[:SAMPLE].decode() and receipt.body_bytes == len(big)
    # A verified webhook is kept whole.
    signed_id = "msg_big_signed_" + uuid.uuid4().hex
    signed = await delivery.webhook(shipment["carrier"], big, webhook_id=signed_id)
    assert signed.status_code == 422  # no "at": verified, then not a report
    [kept] = await receipts_where(delivery, WebhookReceipt.webhook_id == signed_id)
    assert kept.outcome == "invalid" and kept.body == big.decode() and kept.body_bytes == len(big)


def receipt(marker: str, outcome: str, received_at: datetime) -> WebhookReceipt:
    """An audit row as the route writes it."""
    return WebhookReceipt(
        carrier=marker,
        webhook_id=f"msg_{uuid.uuid4().hex}",
        body="{}",
        body_bytes=2,
        outcome=outcome,
        received_at=received_at,
    )


async def test_pruning_deletes_expired_receipts_and_caps_the_refused(delivery: Delivery) -> None:
    keeping = dict(webhook_receipt_retention_days=30, refused_webhook_retention_hours=24, refused_webhook_max_kept=3)
    settings: DeliverySettings = delivery.svc.settings.model_copy(update=keeping)
    now = datetime.now(UTC)
    marker = "prune-" + uuid.uuid4().hex[:8]
    rows = [
        ("old accepted", "accepted", now - timedelta(days=31)),
        ("old replay", "replay", now - timedelta(days=30, minutes=1)),
        ("month-old accepted", "accepted", now - timedelta(days=29)),
        ("day-old invalid", "invalid", now - timedelta(days=2)),
        ("day-old forgery", "bad_signature", now - timedelta(hours=25)),
        ("stale, older than the cap", "stale", now - timedelta(hours=3)),
        ("forgery 1", "bad_signature", now - timedelta(hours=2)),
        ("unknown carrier", "unknown_carrier", now - timedelta(hours=1)),
        ("forgery 2", "bad_signature", now - timedelta(minutes=1)),
        ("accepted now", "accepted", now),
    ]
    async with delivery.svc.kernel.db.transaction() as session:
        made = [receipt(marker, outcome, at) for _, outcome, at in rows]
        session.add_all(made)
        await session.flush()
        names = {row.id: name for row, (name, _, _) in zip(made, rows, strict=True)}
    # Batches of two: every kind of expiry needs more than one transaction.
    deleted = await prune_expired(delivery.svc.kernel.db, now=now, settings=settings, batch=2)
    left = [names[r.id] for r in await receipts_where(delivery, WebhookReceipt.carrier == marker)]
    kept = ["month-old accepted", "day-old invalid", "forgery 1", "unknown carrier", "forgery 2", "accepted now"]
    assert left == kept
    assert deleted >= 4
    # A second run (another replica's, say) finds nothing more of these to delete.
    await prune_expired(delivery.svc.kernel.db, now=now, settings=settings, batch=2)
    assert [names[r.id] for r in await receipts_where(delivery, WebhookReceipt.carrier == marker)] == left
