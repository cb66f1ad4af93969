"""The applicant's inbox of rating links (what the simulated SMS sender sent them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from owkernel import CursorParam, LimitParam, Page, SessionDep, VerifiedPrincipal, encode_cursor
from services.rating.common import keyset_after
from services.rating.messages import service
from services.rating.messages.schemas import LinkMessageOut

router = APIRouter(prefix="/api/v1/ratings", tags=["ratings"])


@router.get("/links/mine", response_model=Page[LinkMessageOut])
async def my_links(
    session: SessionDep, principal: VerifiedPrincipal, limit: LimitParam = 50, cursor: CursorParam = None
) -> Any:
    """The rating links sent to the logged-in applicant, newest first (403 for staff)."""
    items = await service.link_messages(session, principal=principal, limit=limit + 1, after=keyset_after(cursor))
    next_cursor = None
    if len(items) > limit:
        last = items[limit - 1]
        next_cursor = encode_cursor([last["sent_at"].isoformat(), last["message_id"]])
    return {"items": items[:limit], "next_cursor": next_cursor}
