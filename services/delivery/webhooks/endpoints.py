"""``POST /api/v1/webhooks/couriers/{carrier}``: courier status reports, signed.

The route reads the body (refusing one that declares itself too large before reading it) and
answers what ``service.receive`` decided; a rejection is a problem response returned (not
raised), so the request's transaction commits the webhook's audit row and nothing else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from owkernel.errors import problem_response
from owkernel.kernel import get_kernel
from services.delivery.deps import DeliveryKernel
from services.delivery.webhooks import service

router = APIRouter(tags=["webhooks"])


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
async def courier_webhook(carrier: str, request: Request) -> Response:
    """Verify, store, and apply a courier's status report; a replayed webhook id changes nothing."""
    kernel: DeliveryKernel = get_kernel(request)
    limit = kernel.settings.max_webhook_bytes
    # ASCII digits only ("²" is a digit that int() refuses); more digits than the limit has is too big.
    declared = (request.headers.get("content-length") or "").lstrip("0")
    if declared.isascii() and declared.isdigit() and (len(declared) > len(str(limit)) or int(declared) > limit):
        return problem_response(413, f"A webhook body is at most {limit} bytes.")
    body = await request.body()
    # The route holds its unit of work itself, as SessionDep would (committed before the answer
    # is sent, rolled back on an exception): three webhooks come with every application, and
    # FastAPI's generator dependencies (SessionDep, KernelDep) cost more than the block (issue 22).
    async with kernel.db.transaction() as session:
        answer = await service.receive(
            session,
            settings=kernel.settings,
            secrets=kernel.state.courier_secrets,
            carrier=carrier,
            body=body,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
    if answer.status != 200:
        return problem_response(answer.status, answer.detail, **answer.extra)
    return JSONResponse(answer.content)
