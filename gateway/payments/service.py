"""Payment rules: an order for an application's fee (asked of intake), provider callbacks, expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import outbox
from gateway.payments import repository
from gateway.payments.models import Payment, PaymentNotification
from gateway.payments.schemas import ProviderNotification
from owkernel.auth import Principal
from owkernel.contracts.gateway import PaymentExpired, PaymentFailed, PaymentSucceeded
from owkernel.db import Database
from owkernel.errors import Conflict, Forbidden, NotFound, Problem, Unauthorized, Unprocessable
from owkernel.kernel import clock_of

log = structlog.get_logger("gateway.payments")


async def application_view(
    client: httpx.AsyncClient, *, intake_url: str, application_no: str, authorization: str, request_id: str | None
) -> dict[str, Any]:
    """The application as intake shows it to this caller (the gateway never reads intake's database)."""
    headers = {"Authorization": authorization}
    if request_id:
        headers["X-Request-ID"] = request_id
    try:
        response = await client.get(f"{intake_url}/api/v1/applications/{application_no}", headers=headers)
    except httpx.TimeoutException:
        raise Problem("Intake did not answer in time.", status=504) from None
    except httpx.HTTPError:
        raise Problem("Intake is not reachable right now.", status=502) from None
    if response.status_code == 404:
        raise NotFound("There is no such application.")
    if response.status_code == 403:
        raise Forbidden("This application is not yours.")
    if response.status_code == 401:
        raise Unauthorized("Authentication required.")
    if response.status_code != 200:
        raise Problem(f"Intake answered {response.status_code}.", status=502)
    try:
        body = response.json()
    except ValueError:
        raise Problem("Intake answered something that is not JSON.", status=502) from None
    if not isinstance(body, dict):
        raise Problem("Intake answered an unexpected shape.", status=502)
    return body


async def create_payment(
    session: AsyncSession,
    *,
    application_no: str,
    view: dict[str, Any],
    principal: Principal,
    expiry_seconds: float,
) -> tuple[Payment, bool]:
    """A pending order for the application's fee; an order already pending is returned (created=False)."""
    fee = view.get("fee_fen")
    payment_view = view.get("payment") if isinstance(view.get("payment"), dict) else {}
    status = payment_view.get("status") if payment_view else None
    if status == "paid" or await repository.latest_for(session, application_no, status="paid") is not None:
        raise Conflict("This application's fee is already paid.")
    if status == "not_required" or not isinstance(fee, int) or isinstance(fee, bool) or fee <= 0:
        raise Conflict("This application has no fee to pay.")
    now = clock_of(session).now()
    pending = await repository.latest_for(session, application_no, status="pending")
    if pending is not None:
        if pending.expires_at > now and pending.amount_fen == fee:
            return pending, False
        # Past its time (the sweeper has not come by yet) or for another amount: it ends here.
        if await repository.transition(session, pending.id, to="expired"):
            await outbox.add(session, PaymentExpired(payment_id=pending.id, application_no=application_no))
    payment = Payment(
        id="pay_" + uuid.uuid4().hex,
        application_no=application_no,
        payer_subject=principal.subject_id,
        payer_id_number=principal.id_number,
        amount_fen=fee,
        status="pending",
        created_at=now,
        expires_at=now + timedelta(seconds=expiry_seconds),
        paid_at=None,
        failure_reason=None,
    )
    return await repository.add(session, payment), True


def may_see(payment: Payment, principal: Principal) -> bool:
    """The payer (or the applicant with the same identity number) and staff."""
    if principal.is_staff:
        return True
    if payment.payer_subject == principal.subject_id:
        return True
    return payment.payer_id_number is not None and payment.payer_id_number == principal.id_number


async def apply_notification(session: AsyncSession, *, note: ProviderNotification) -> tuple[str, Payment]:
    """Apply a verified provider callback once; a replay or a late one changes nothing."""
    if await repository.notification(session, note.notification_id) is not None:
        payment = await repository.get(session, note.payment_id)
        if payment is None:
            raise NotFound("There is no such payment.")
        return "duplicate", payment
    payment = await repository.get(session, note.payment_id)
    if payment is None:
        raise NotFound("There is no such payment.")
    if note.amount_fen != payment.amount_fen:
        log.warning("payment.amount_mismatch", payment_id=payment.id, expected=payment.amount_fen, got=note.amount_fen)
        raise Unprocessable("The amount paid does not match the order; refused.")
    outcome = "ignored"
    if payment.status == "pending":
        if note.status == "success":
            if await repository.transition(session, payment.id, to="paid", paid_at=note.at):
                await outbox.add(
                    session,
                    PaymentSucceeded(
                        payment_id=payment.id,
                        application_no=payment.application_no,
                        amount_fen=payment.amount_fen,
                        paid_at=note.at,
                    ),
                )
                outcome = "applied"
        else:
            reason = note.reason or "The payment provider refused the payment."
            if await repository.transition(session, payment.id, to="failed", failure_reason=reason):
                await outbox.add(
                    session,
                    PaymentFailed(payment_id=payment.id, application_no=payment.application_no, reason=reason),
                )
                outcome = "applied"
    await repository.add_notification(
        session,
        PaymentNotification(
            notification_id=note.notification_id,
            payment_id=payment.id,
            status=note.status,
            amount_fen=note.amount_fen,
            outcome=outcome,
            received_at=clock_of(session).now(),
        ),
    )
    await session.refresh(payment)
    return outcome, payment


async def expire_due(db: Database, *, batch: int = 100) -> int:
    """Expire pending payments past their time limit, each with its event. Returns how many."""
    expired = 0
    async with db.transaction() as session:
        for payment in await repository.due_pending(session, now=clock_of(session).now(), limit=batch):
            if await repository.transition(session, payment.id, to="expired"):
                await outbox.add(session, PaymentExpired(payment_id=payment.id, application_no=payment.application_no))
                expired += 1
    if expired:
        log.info("payments.expired", count=expired)
    return expired
