"""Ratings: online, by link, the list, and the public satisfaction figures."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from owkernel import (
    CursorParam,
    Forbidden,
    IdempotencyKey,
    LimitParam,
    OptionalPrincipal,
    Page,
    SessionDep,
    Unauthorized,
    VerifiedPrincipal,
)
from owkernel.halls import HALL_CODE_PATTERN
from owkernel.pagination import decode_time_cursor, page_of, time_key
from owkernel.roles import HallStaff
from services.rating.common import idempotent_create, period
from services.rating.deps import SenderDep, SettingsDep, SignerDep
from services.rating.reviews import links, repository, service
from services.rating.reviews.models import Review
from services.rating.reviews.schemas import (
    ByLinkIn,
    LinkIn,
    LinkOut,
    RatingIn,
    RatingOut,
    StatsBy,
    StatsOut,
)

router = APIRouter(prefix="/api/v1/ratings", tags=["ratings"])
OVERSIGHT = ("supervisor", "admin")


def rating_out(review: Review, *, rectification_id: str | None = None, full: bool = True) -> dict[str, Any]:
    """A rating for a response; ``full=False`` drops what could lead staff to the rater."""
    return RatingOut(
        review_id=review.review_id,
        channel=review.channel,
        score=review.score,
        comment=review.comment,
        indicators=review.indicators,
        application_no=review.application_no if full else None,
        item_code=review.item_code,
        department=review.department,
        window=review.window,
        rated_at=review.rated_at,
        annulled=review.annulled,
        rectification_id=rectification_id,
    ).model_dump(mode="json")


@router.post("", status_code=201, response_model=RatingOut)
async def rate(
    body: RatingIn,
    request: Request,
    session: SessionDep,
    principal: VerifiedPrincipal,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> Any:
    """The applicant rates their decided application (one rating per application)."""

    async def create() -> dict[str, Any]:
        review, rectification_id = await service.rate_online(
            session,
            settings=settings,
            principal=principal,
            application_no=body.application_no,
            score=body.score,
            comment=body.comment,
            indicators=body.indicators.given() if body.indicators else None,
        )
        return rating_out(review, rectification_id=rectification_id)

    return await idempotent_create(
        session, request=request, owner=principal.subject_id, key=key, body=body.model_dump_json(), create=create
    )


@router.get("", response_model=Page[RatingOut])
async def list_ratings(
    session: SessionDep,
    principal: VerifiedPrincipal,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    application_no: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    """Applicants see their own ratings; supervisors all; a department's staff theirs, never who rated."""
    after = decode_time_cursor(cursor)
    full = True
    filters: dict[str, Any] = {"channel": channel, "application_no": application_no}
    if principal.has_role(*OVERSIGHT):
        pass
    elif principal.is_staff:
        if not principal.department:
            raise Forbidden("Staff see the ratings of their own department.")
        filters["department"] = principal.department
        filters["application_no"] = None
        full = False
    else:
        if not principal.id_number:
            raise Forbidden("No identity number on this account.")
        filters["rater_id_number"] = principal.id_number
    rows = await repository.page(session, limit=limit + 1, after=after, **filters)
    return page_of(
        rows, limit, key=lambda r: time_key(r.rated_at, r.review_id), item=lambda r: rating_out(r, full=full)
    )


@router.get("/stats", response_model=StatsOut, response_model_by_alias=True)
async def stats(
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    by: StatsBy = "department",
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    hall: Annotated[str | None, Query(pattern=HALL_CODE_PATTERN)] = None,
) -> Any:
    """Satisfaction figures by department, window, item, channel, hall (public) or clerk (oversight); of one hall."""
    if by == "clerk":
        # Figures per named clerk are personal data of staff: oversight only.
        if principal is None:
            raise Unauthorized("Figures by clerk need a supervisor's token.", headers={"WWW-Authenticate": "Bearer"})
        if not principal.has_role(*OVERSIGHT):
            raise Forbidden("Figures by clerk are for supervisors.")
    period(from_, to, settings)  # 422 when 'to' is before 'from'
    result = await service.stats(session, by=by, start=from_, end=to, channel=channel, hall=hall)
    result["from_"] = from_.isoformat() if from_ else None
    result["to"] = to.isoformat() if to else None
    return result


@router.post("/links", status_code=201, response_model=LinkOut)
async def create_link(
    body: LinkIn,
    request: Request,
    session: SessionDep,
    principal: HallStaff,
    settings: SettingsDep,
    signer: SignerDep,
    sender: SenderDep,
    key: IdempotencyKey = None,
) -> Any:
    """Staff send the applicant of a decided application a rating link (by SMS); the answer cannot redeem it."""

    async def create() -> dict[str, Any]:
        link, sent_to = await links.create_link(
            session,
            settings=settings,
            signer=signer,
            sender=sender,
            principal=principal,
            application_no=body.application_no,
        )
        return LinkOut(
            link_id=link.link_id,
            application_no=link.application_no,
            channel=sender.channel,
            sent_to=sent_to,
            expires_at=link.expires_at,
        ).model_dump(mode="json")

    return await idempotent_create(
        session, request=request, owner=principal.subject_id, key=key, body=body.model_dump_json(), create=create
    )


@router.post("/by-link", status_code=201, response_model=RatingOut)
async def rate_by_link(
    body: ByLinkIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    signer: SignerDep,
    key: IdempotencyKey = None,
) -> Any:
    """Rate through a link without logging in: the link works once and expires."""

    async def create() -> dict[str, Any]:
        review, rectification_id = await links.rate_by_link(
            session,
            settings=settings,
            signer=signer,
            token=body.token,
            score=body.score,
            comment=body.comment,
            indicators=body.indicators.given() if body.indicators else None,
        )
        return rating_out(review, rectification_id=rectification_id)

    owner = "link:" + hashlib.sha256(body.token.encode()).hexdigest()[:40]
    return await idempotent_create(
        session, request=request, owner=owner, key=key, body=body.model_dump_json(), create=create
    )
