"""Kiosks: admins register and revoke them; a kiosk votes with its device key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from owkernel import CursorParam, IdempotencyKey, LimitParam, Page, SessionDep
from owkernel.pagination import decode_text_cursor, page_of
from owkernel.roles import Admin
from services.rating.common import idempotent_create
from services.rating.deps import SettingsDep
from services.rating.kiosks import repository, service
from services.rating.kiosks.models import Kiosk
from services.rating.kiosks.schemas import KioskCreated, KioskIn, KioskOut, KioskVoteIn
from services.rating.reviews.endpoints import rating_out
from services.rating.reviews.schemas import RatingOut

router = APIRouter(tags=["kiosks"])
DeviceKey = Annotated[str | None, Header(alias="X-Device-Key", max_length=200)]


def kiosk_out(kiosk: Kiosk) -> dict[str, Any]:
    """A kiosk for a response."""
    return KioskOut(
        kiosk_id=kiosk.kiosk_id,
        window=kiosk.window,
        hall=kiosk.hall,
        department=kiosk.department,
        label=kiosk.label,
        created_at=kiosk.created_at,
        revoked_at=kiosk.revoked_at,
        last_vote_at=kiosk.last_vote_at,
    ).model_dump(mode="json")


@router.post("/api/v1/kiosks", status_code=201, response_model=KioskCreated)
async def register_kiosk(
    body: KioskIn, request: Request, session: SessionDep, principal: Admin, key: IdempotencyKey = None
) -> Any:
    """Register a kiosk; its device key is in this response only."""

    async def create() -> dict[str, Any]:
        kiosk, device_key = await service.register(
            session,
            principal=principal,
            window=body.window,
            department=body.department,
            label=body.label,
            hall=body.hall,
        )
        return KioskCreated(
            kiosk_id=kiosk.kiosk_id,
            device_key=device_key,
            window=kiosk.window,
            hall=kiosk.hall,
            department=kiosk.department,
            label=kiosk.label,
        ).model_dump(mode="json")

    return await idempotent_create(
        session, request=request, owner=principal.subject_id, key=key, body=body.model_dump_json(), create=create
    )


@router.get("/api/v1/kiosks", response_model=Page[KioskOut])
async def list_kiosks(session: SessionDep, _: Admin, limit: LimitParam = 50, cursor: CursorParam = None) -> Any:
    """Every kiosk, revoked ones included (never a key)."""
    rows = await repository.page(session, limit=limit + 1, after=decode_text_cursor(cursor))
    return page_of(rows, limit, key=lambda k: [k.kiosk_id], item=kiosk_out)


@router.delete("/api/v1/kiosks/{kiosk_id}", status_code=204)
async def revoke_kiosk(kiosk_id: str, session: SessionDep, _: Admin) -> Response:
    """Revoke a kiosk: its key stops working at once."""
    await service.revoke(session, kiosk_id=kiosk_id)
    return Response(status_code=204)


@router.post("/api/v1/kiosk/ratings", status_code=201, response_model=RatingOut)
async def kiosk_vote(
    body: KioskVoteIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    device_key: DeviceKey = None,
    key: IdempotencyKey = None,
) -> Any:
    """A vote from a registered kiosk (throttled per device; a retried Idempotency-Key replays the vote)."""

    async def create() -> dict[str, Any]:
        review, rectification_id = await service.vote(
            session,
            settings=settings,
            device_key=device_key,
            window=body.window,
            score=body.score,
            indicators=body.indicators.given() if body.indicators else None,
            comment=body.comment,
            application_no=body.application_no,
            clerk=body.clerk,
        )
        # A kiosk is anonymous and shows nothing back but the receipt.
        out = rating_out(review, rectification_id=rectification_id)
        out["application_no"] = None
        return out

    # Replays are per device: the owner is the key's hash (no read needed when no key is sent).
    owner = "kiosk:" + service.hash_key(device_key or "")[:40]
    return await idempotent_create(
        session, request=request, owner=owner, key=key, body=body.model_dump_json(), create=create
    )
