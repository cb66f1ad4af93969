"""The applicant's inbox of rating links (what the simulated SMS sender sent them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from owkernel import CursorParam, LimitParam, Page, SessionDep, VerifiedPrincipal
from owkernel.pagination import decode_time_cursor, page_of, time_key
from services.rating.messages import service
from services.rating.messages.schemas import LinkMessageOut

router = APIRouter(prefix="/api/v1/ratings", tags=["ratings"])


@router.get("/links/mine", response_model=Page[LinkMessageOut])
async def my_links(
    session: SessionDep, principal: VerifiedPrincipal, limit: LimitParam = 50, cursor: CursorParam = None
) -> Any:
    """The rating links sent to the logged-in applicant, newest first (403 for staff)."""
    rows = await service.link_messages(session, principal=principal, limit=limit + 1, after=decode_time_cursor(cursor))
    return page_of(rows, limit, key=lambda m: time_key(m["sent_at"], m["message_id"]))
