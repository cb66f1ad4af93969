"""Every query on the messages to applicants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.messages.models import ApplicantMessage
from services.rating.reviews.models import RatingLink


def add(session: AsyncSession, message: ApplicantMessage) -> None:
    """Stage a message."""
    session.add(message)


async def link_messages(
    session: AsyncSession, *, id_number: str, limit: int, after: tuple[datetime, str] | None
) -> list[Any]:
    """An applicant's rating-link messages with their link's expiry and use, newest first (keyset)."""
    query = (
        select(ApplicantMessage, RatingLink.expires_at, RatingLink.used_at)
        .join(RatingLink, RatingLink.link_id == ApplicantMessage.link_id)
        .where(ApplicantMessage.id_number == id_number, ApplicantMessage.kind == "rating_link")
    )
    if after is not None:
        at, message_id = after
        query = query.where(
            or_(
                ApplicantMessage.sent_at < at,
                and_(ApplicantMessage.sent_at == at, ApplicantMessage.message_id < message_id),
            )
        )
    query = query.order_by(ApplicantMessage.sent_at.desc(), ApplicantMessage.message_id.desc()).limit(limit)
    return list(await session.execute(query))
