"""Hall routes: the list (anyone) and the registry (administrators)."""

from __future__ import annotations

from fastapi import APIRouter

from owkernel.app import SessionDep
from owkernel.pagination import CursorParam, LimitParam, Page, decode_text_cursor, page_of
from owkernel.roles import Admin
from services.intake.halls import repository, service
from services.intake.halls.schemas import HallIn, HallOut

router = APIRouter(prefix="/api/v1/halls", tags=["halls"])


@router.get("")
async def list_halls(session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None) -> Page[HallOut]:
    """Every hall by code: the city's ("CITY") and the counties'."""
    rows = await repository.page(session, after=decode_text_cursor(cursor), limit=limit + 1)
    return page_of(rows, limit, key=lambda h: [h.code], item=service.out)


@router.post("", status_code=201, responses={409: {"description": "a hall with this code exists"}})
async def create_hall(body: HallIn, session: SessionDep, principal: Admin) -> HallOut:
    """Register a county's hall (or the city's under another code); 409 on a code taken."""
    return service.out(await service.create(session, principal=principal, data=body))
