"""Rating rules: who may rate what and when, and the satisfaction figures (the SMS rating links are
in ``links.py``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Conflict, Forbidden, NotFound, Principal
from owkernel.contracts.rating import Channel, ReviewSubmitted
from owkernel.halls import CITY_HALL
from owkernel.kernel import clock_of
from services.rating.common import local_date, new_id
from services.rating.db import outbox
from services.rating.known_applications import repository as applications
from services.rating.known_applications.models import Application
from services.rating.rectifications import service as rectifications
from services.rating.reviews import repository, rollup
from services.rating.reviews.models import Review
from services.rating.settings import RatingSettings

BAD = 2  # scores 1 and 2 are bad reviews; 3-5 count as satisfied


class ReviewFacts(TypedDict, total=False):
    """What a channel knows of one rating besides its score: what it says, whom it is about
    (explicit values; an application fills the rest), and where it came from."""

    indicators: dict[str, int] | None
    comment: str | None
    department: str | None
    window: str | None
    item_code: str | None
    clerk: str | None
    hall: str | None
    kiosk_id: str | None
    survey_import_id: str | None
    dedupe_key: str | None
    rater_id_number: str | None
    rated_at: datetime | None


async def submit(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    channel: Channel,
    score: int,
    application: Application | None = None,
    responsible_department: str | None = None,
    batch: rollup.Rollup | None = None,
    **facts: Unpack[ReviewFacts],
) -> tuple[Review, str | None]:
    """Save one rating from any channel, publish it, and open a rectification for a bad one.

    Attribution comes from the application when there is one; explicit values fill the rest.
    Returns the review and the id of the rectification it opened, if any. With ``batch`` the
    daily figures are gathered there for the caller to write; otherwise they are written now.
    """
    review = _new_review(session, settings=settings, channel=channel, score=score, application=application, facts=facts)
    repository.add(session, review)
    if batch is not None:
        batch.add(review, rollup.contribution(review))
    else:
        await rollup.counted(session, review)
    await outbox.add(session, _submitted(review, channel=channel))
    rectification_id = None
    if score <= BAD:
        rectification_id = await _open_rectification(
            session,
            settings=settings,
            review=review,
            channel=channel,
            owner=_responsible(application, responsible_department),
        )
    return review, rectification_id


def _new_review(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    channel: Channel,
    score: int,
    application: Application | None,
    facts: ReviewFacts,
) -> Review:
    """The review's row: explicit attribution first, the application's for what was not given."""
    department, window = facts.get("department"), facts.get("window")
    item_code, clerk, hall = facts.get("item_code"), facts.get("clerk"), facts.get("hall")
    if application is not None:
        department = department or application.department
        window = window or application.window
        item_code = item_code or application.item_code
        clerk = clerk or application.clerk
        hall = hall or application.hall
    review = Review(
        review_id=new_id("RV"),
        channel=channel,
        score=score,
        indicators=facts.get("indicators") or None,
        comment=facts.get("comment"),
        application_no=application.application_no if application is not None else None,
        item_code=item_code,
        department=department,
        window=window,
        clerk=clerk,
        hall=hall or CITY_HALL,
        kiosk_id=facts.get("kiosk_id"),
        survey_import_id=facts.get("survey_import_id"),
        dedupe_key=facts.get("dedupe_key"),
        rater_id_number=facts.get("rater_id_number"),
        rated_at=facts.get("rated_at") or clock_of(session).now(),
        annulled=False,
        rectified=False,
    )
    review.rated_on = local_date(review.rated_at, settings)
    return review


def _submitted(review: Review, *, channel: Channel) -> ReviewSubmitted:
    """The event of a saved review."""
    return ReviewSubmitted(
        review_id=review.review_id,
        channel=channel,
        score=review.score,
        application_no=review.application_no,
        item_code=review.item_code,
        department=review.department,
        window=review.window,
        clerk=review.clerk,
        at=review.rated_at,
        hall=review.hall,
    )


def _responsible(application: Application | None, responsible_department: str | None) -> str | None:
    """Who answers for a bad review when the caller named nobody: the department that rejected."""
    if responsible_department is None and application is not None and application.decision == "rejected":
        return application.rejected_by
    return responsible_department


async def _open_rectification(
    session: AsyncSession, *, settings: RatingSettings, review: Review, channel: Channel, owner: str | None
) -> str:
    """A bad review opens a rectification case (for the hall's department when nobody else owns it)."""
    case = await rectifications.open_case(
        session,
        settings=settings,
        origin="review",
        department=owner or review.department or settings.hall_department,
        window=review.window,
        application_no=review.application_no,
        item_code=review.item_code,
        complaint=review.comment,
        review_id=review.review_id,
        channel=channel,
        score=review.score,
        opened_at=review.rated_at,
    )
    return case.rectification_id


async def ratable_application(session: AsyncSession, *, application_no: str) -> Application:
    """The decided application a rating is for, locked; 404 unknown, 409 undecided or rated."""
    application = await applications.get_for_update(session, application_no)
    if application is None:
        raise NotFound(
            f"No accepted application {application_no} is known to rating.", code="application_not_known_to_rating"
        )
    if application.decision is None:
        raise Conflict("The application can be rated once it is approved or rejected.", code="rating_too_early")
    if await repository.dedupe_key_taken(session, application_key(application_no)):
        raise Conflict("This application has been rated already; one rating per application.", code="already_rated")
    return application


def application_key(application_no: str) -> str:
    """The uniqueness key of an application's one online (or link) rating."""
    return f"app:{application_no}"


async def rate_online(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    principal: Principal,
    application_no: str,
    score: int,
    comment: str | None,
    indicators: dict[str, int] | None,
) -> tuple[Review, str | None]:
    """The applicant rates their own decided application, once."""
    if principal.kind not in ("person", "enterprise") or not principal.id_number:
        raise Forbidden("Only the applicant rates an application online.", code="applicant_rates_only")
    application = await applications.get(session, application_no)
    if application is None:
        raise NotFound(
            f"No accepted application {application_no} is known to rating.", code="application_not_known_to_rating"
        )
    if application.applicant_id_number != principal.id_number:
        raise Forbidden("Only the applicant rates this application.", code="applicant_rates_only")
    application = await ratable_application(session, application_no=application_no)
    return await submit_once(
        session,
        settings=settings,
        channel="online",
        application=application,
        score=score,
        comment=comment,
        indicators=indicators,
    )


async def submit_once(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    channel: Channel,
    application: Application,
    score: int,
    comment: str | None,
    indicators: dict[str, int] | None,
) -> tuple[Review, str | None]:
    """Submit an application's one rating; 409 when another got in first (its dedupe key)."""
    try:
        async with session.begin_nested():
            result = await submit(
                session,
                settings=settings,
                channel=channel,
                score=score,
                comment=comment,
                indicators=indicators,
                application=application,
                dedupe_key=application_key(application.application_no),
                rater_id_number=application.applicant_id_number,
            )
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "This application has been rated already; one rating per application.", code="already_rated"
        ) from exc
    return result


# --- figures ---------------------------------------------------------------------------------


def figures(row: repository.StatRow, *, key: str | None) -> dict[str, Any]:
    """One group's public figures (counts only: nothing about who rated)."""
    return {
        "key": key if key is not None else "unattributed",
        "count": row.count,
        "satisfied": row.satisfied,
        "satisfaction_rate": round(row.satisfied / row.count, 4) if row.count else None,
        "dissatisfied": row.bad,
        "bad_reviews": row.bad,
        "rectified": row.rectified,
        "rectified_on_time": row.rectified_on_time,
        "average_score": round(row.score_sum / row.count, 2) if row.count else None,
        "scores": {str(s): row.by_score[s] for s in range(5, 0, -1)},
    }


async def stats(
    session: AsyncSession,
    *,
    by: str,
    start: date | None,
    end: date | None,
    channel: str | None,
    hall: str | None = None,
) -> dict[str, Any]:
    """Satisfaction figures per group over local days ``start``..``end`` (of one hall), and their total."""
    if hall is None:
        rows = await repository.stats(session, by=by, start=start, end=end, channel=channel)
    else:
        # The roll-up is per grouping, not per hall and grouping: one hall's are counted from its ratings.
        rows = await repository.stats_from_ratings(session, by=by, start=start, end=end, channel=channel, hall=hall)
    items = [figures(row, key=row.key) for row in rows]
    total = repository.StatRow(
        key="total",
        count=sum(r.count for r in rows),
        satisfied=sum(r.satisfied for r in rows),
        bad=sum(r.bad for r in rows),
        rectified=sum(r.rectified for r in rows),
        rectified_on_time=sum(r.rectified_on_time for r in rows),
        score_sum=sum(r.score_sum for r in rows),
        by_score={s: sum(r.by_score[s] for r in rows) for s in range(1, 6)},
    )
    return {"by": by, "items": items, "total": figures(total, key="total")}
