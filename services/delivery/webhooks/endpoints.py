"""``POST /api/v1/webhooks/couriers/{carrier}``: courier status reports, signed.

Every webhook leaves an audit row, whatever we make of it, so rejected ones are answered with
a problem response returned (not raised): the request's transaction then commits the audit row
and nothing else. A verified webhook's body is kept whole; one refused before its sender was
proven keeps only a sample (``service.kept_body``), and the pruning job keeps it briefly.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from structlog.contextvars import bind_contextvars

from owkernel.app import SessionDep
from owkernel.errors import problem_response
from owkernel.kernel import clock_of
from services.delivery.deps import KernelDep
from services.delivery.shipments import repository as shipments_repo
from services.delivery.shipments import service as shipments
from services.delivery.webhooks import repository, service
from services.delivery.webhooks.models import WebhookReceipt

router = APIRouter(tags=["webhooks"])


def _storable(text: str) -> str:
    """Untrusted text as a column can keep it: PostgreSQL refuses the NUL character."""
    return text.replace("\x00", "\ufffd")


@router.post(
    "/api/v1/webhooks/couriers/{carrier}",
    summary="A courier partner reports a parcel's status (Standard Webhooks signature)",
    responses={
        401: {"description": "bad signature or stale timestamp"},
        404: {"description": "unknown carrier, or no parcel of this carrier has the tracking number"},
        413: {"description": "body larger than the limit"},
        422: {"description": "a verified body that is not a courier status report"},
    },
)
async def courier_webhook(carrier: str, request: Request, session: SessionDep, kernel: KernelDep) -> Response:
    """Verify, store, and apply a courier's status report; a replayed webhook id changes nothing."""
    settings = kernel.settings
    limit = settings.max_webhook_bytes
    # ASCII digits only ("²" is a digit that int() refuses); more digits than the limit has is too big.
    declared = (request.headers.get("content-length") or "").lstrip("0")
    if declared.isascii() and declared.isdigit() and (len(declared) > len(str(limit)) or int(declared) > limit):
        return problem_response(413, f"A webhook body is at most {limit} bytes.")
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    # The audit row is staged only once its fields are final (every return below goes through
    # ``answer`` or ``reject``): one INSERT with the commit, and no autoflush of a half-made row
    # ahead of the queries in between.
    receipt = WebhookReceipt(
        carrier=_storable(carrier[:40]),
        webhook_id=_storable(headers.get("webhook-id") or "")[:200] or None,
        webhook_timestamp=_storable(headers.get("webhook-timestamp") or "")[:40] or None,
        signature=_storable(headers.get("webhook-signature") or "")[:1000] or None,
        body_bytes=len(body),
        outcome="received",
        received_at=clock_of(session).now(),
    )

    def keep(outcome: str) -> None:
        kept = service.kept_body(body, refused=outcome in service.REFUSED, settings=settings)
        receipt.body = _storable(kept.decode("utf-8", errors="replace"))
        receipt.outcome = outcome
        repository.add_receipt(session, receipt)

    def answer(outcome: str, content: dict[str, Any], *, shipment_id: str | None = None) -> JSONResponse:
        receipt.shipment_id = shipment_id
        keep(outcome)
        return JSONResponse(content)

    def reject(status: int, outcome: str, detail: str, **extra: Any) -> JSONResponse:
        receipt.detail = _storable(detail[:500])
        keep(outcome)
        return problem_response(status, detail, **extra)

    def replay() -> JSONResponse:
        return answer("replay", {"received": True, "replay": True, "applied": False})

    if len(body) > limit:
        return reject(413, "too_large", f"A webhook body is at most {limit} bytes.")
    secrets = kernel.state.courier_secrets
    if carrier not in secrets.by_carrier:
        return reject(404, "unknown_carrier", f"No courier partner {carrier!r} is under contract.")
    rejection = service.verify(secrets, carrier=carrier, body=body, headers=headers)
    if rejection is not None:
        return reject(401, rejection.outcome, rejection.detail)
    webhook_id = headers["webhook-id"]
    if len(webhook_id) > 200:
        return reject(422, "invalid", "The webhook-id is longer than 200 characters.")
    if "\x00" in webhook_id:
        return reject(422, "invalid", "The webhook-id holds a NUL character.")
    # A verified id that was applied before is a replay whatever its body says. The id is claimed
    # only once the report is known to apply to a parcel (one INSERT that is the replay check
    # too); a report that cannot apply asks whether its id was applied before, so a replay is
    # still answered as one.
    try:
        report = service.CourierReport.model_validate_json(body)
    except ValidationError as exc:
        if await repository.already_processed(session, carrier=carrier, webhook_id=webhook_id):
            return replay()
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return reject(422, "invalid", "The webhook body is not a courier status report.", errors=errors)
    shipment = await shipments_repo.by_tracking(session, carrier=carrier, tracking_no=report.tracking_no)
    if shipment is None:
        if await repository.already_processed(session, carrier=carrier, webhook_id=webhook_id):
            return replay()
        return reject(404, "unknown_tracking", f"No shipment of {carrier} has tracking number {report.tracking_no}.")
    if not await repository.claim(session, carrier=carrier, webhook_id=webhook_id):
        return replay()
    bind_contextvars(application_no=shipment.application_no)
    applied = await shipments.apply_status(
        session,
        shipment=shipment,
        status=report.status,
        at=report.at,
        source="courier",
        webhook_id=webhook_id,
        reason=report.reason,
    )
    return answer(
        "accepted" if applied else "not_applied",
        {
            "received": True,
            "replay": False,
            "applied": applied,
            "shipment_id": shipment.id,
            "status": shipment.status,
        },
        shipment_id=shipment.id,
    )
