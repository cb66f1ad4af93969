"""Rating rules: who may rate what and when, rating links, and the satisfaction figures."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Conflict, Forbidden, NotFound, Principal, Problem, Unauthorized
from owkernel.contracts.rating import Channel, ReviewSubmitted
from owkernel.halls import CITY_HALL
from owkernel.kernel import clock_of
from services.rating.attribution import repository as applications
from services.rating.attribution.models import Application
from services.rating.common import local_date, new_id, zone
from services.rating.db import outbox
from services.rating.messages.service import MessageSender, Sms
from services.rating.rectifications import service as rectifications
from services.rating.reviews import repository, rollup
from services.rating.reviews.models import RatingLink, Review, SigningSecret
from services.rating.settings import RatingSettings

BAD = 2  # scores 1 and 2 are bad reviews; 3-5 count as satisfied
LINK_SECRET_NAME = "rating-link"


class Gone(Problem):
    """410: the thing existed and is no longer usable (an expired link)."""

    status = 410


async def submit(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    channel: Channel,
    score: int,
    indicators: dict[str, int] | None = None,
    comment: str | None = None,
    application: Application | None = None,
    department: str | None = None,
    window: str | None = None,
    item_code: str | None = None,
    clerk: str | None = None,
    kiosk_id: str | None = None,
    survey_import_id: str | None = None,
    dedupe_key: str | None = None,
    rater_id_number: str | None = None,
    rated_at: datetime | None = None,
    responsible_department: str | None = None,
    batch: rollup.Rollup | None = None,
    hall: str | None = None,
) -> tuple[Review, str | None]:
    """Save one rating from any channel, publish it, and open a rectification for a bad one.

    Attribution comes from the application when there is one; explicit values fill the rest.
    Returns the review and the id of the rectification it opened, if any. With ``batch`` the
    daily figures are gathered there for the caller to write; otherwise they are written now.
    """
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
        indicators=indicators or None,
        comment=comment,
        application_no=application.application_no if application is not None else None,
        item_code=item_code,
        department=department,
        window=window,
        clerk=clerk,
        hall=hall or CITY_HALL,
        kiosk_id=kiosk_id,
        survey_import_id=survey_import_id,
        dedupe_key=dedupe_key,
        rater_id_number=rater_id_number,
        rated_at=rated_at or clock_of(session).now(),
        annulled=False,
        rectified=False,
    )
    review.rated_on = local_date(review.rated_at, settings)
    repository.add(session, review)
    if batch is not None:
        batch.add(review, rollup.contribution(review))
    else:
        await rollup.counted(session, review)
    await outbox.add(
        session,
        ReviewSubmitted(
            review_id=review.review_id,
            channel=channel,
            score=score,
            application_no=review.application_no,
            item_code=item_code,
            department=department,
            window=window,
            clerk=clerk,
            at=review.rated_at,
            hall=review.hall,
        ),
    )
    rectification_id = None
    if score <= BAD:
        owner = responsible_department
        if owner is None and application is not None and application.decision == "rejected":
            owner = application.rejected_by
        case = await rectifications.open_case(
            session,
            settings=settings,
            origin="review",
            department=owner or department or settings.hall_department,
            window=window,
            application_no=review.application_no,
            item_code=item_code,
            complaint=comment,
            review_id=review.review_id,
            channel=channel,
            score=score,
            opened_at=review.rated_at,
        )
        rectification_id = case.rectification_id
    return review, rectification_id


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
    return await _submit_once(
        session,
        settings=settings,
        channel="online",
        application=application,
        score=score,
        comment=comment,
        indicators=indicators,
    )


async def _submit_once(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    channel: Channel,
    application: Application,
    score: int,
    comment: str | None,
    indicators: dict[str, int] | None,
) -> tuple[Review, str | None]:
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


# --- rating links (SMS) ----------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class LinkSigner:
    """Signs and verifies rating-link tokens: ``payload.signature`` with HMAC-SHA256."""

    secret: bytes | None = None

    def sign(self, payload: dict[str, Any]) -> str:
        """A token carrying ``payload``."""
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> dict[str, Any]:
        """The payload of an authentic token; 401 for anything else."""
        body, dot, mac = token.partition(".")
        if not dot or not hmac.compare_digest(mac, self._mac(body)):
            raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error) as exc:
            raise Unauthorized("The rating link is not valid.", code="rating_link_invalid") from exc
        if not isinstance(payload, dict):
            raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
        return payload

    def _mac(self, body: str) -> str:
        if self.secret is None:
            raise RuntimeError("the link signer has no secret yet")
        return _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest())


async def load_link_secret(session: AsyncSession, *, settings: RatingSettings) -> bytes:
    """The configured link secret, else the one generated once and kept in the database."""
    if settings.link_secret is not None and settings.link_secret.get_secret_value():
        return settings.link_secret.get_secret_value().encode()
    kept = await repository.get_secret(session, LINK_SECRET_NAME)
    if kept is None:
        kept = secrets.token_urlsafe(48)
        repository.add_secret(
            session, SigningSecret(name=LINK_SECRET_NAME, secret=kept, created_at=clock_of(session).now())
        )
    return kept.encode()


async def create_link(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    signer: LinkSigner,
    sender: MessageSender,
    principal: Principal,
    application_no: str,
) -> tuple[RatingLink, str | None]:
    """Send the applicant of a decided application a signed, single-use, expiring rating link.

    The token goes only to the applicant (by ``sender``); the staff member who asked gets the link
    back with where it went (masked), never the token. Returns the link and that destination.
    """
    application = await ratable_application(session, application_no=application_no)
    now = clock_of(session).now()
    link = RatingLink(
        link_id=new_id("LK"),
        application_no=application.application_no,
        created_by=principal.username or principal.subject_id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.link_ttl_hours),
    )
    repository.add_link(session, link)
    token = signer.sign({"l": link.link_id, "a": link.application_no, "e": int(link.expires_at.timestamp())})
    url = f"{settings.link_base_url}?token={token}"
    local_expiry = link.expires_at.astimezone(zone(settings)).strftime("%Y-%m-%d %H:%M")
    text = (
        f"【一网通办】您办理的“{application.item_name}”（{application.application_no}）已办结，"
        f"请为我们的服务评价：{url} 链接仅可使用一次，{local_expiry} 前有效。"
    )
    sent_to = await sender.send(
        session,
        Sms(
            id_number=application.applicant_id_number,
            phone=application.applicant_phone,
            kind="rating_link",
            text=text,
            application_no=application.application_no,
            link_id=link.link_id,
            url=url,
            token=token,
        ),
    )
    return link, sent_to


async def rate_by_link(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    signer: LinkSigner,
    token: str,
    score: int,
    comment: str | None,
    indicators: dict[str, int] | None,
) -> tuple[Review, str | None]:
    """Rate without logging in: the token names the application; it works once, before it expires."""
    payload = signer.verify(token)
    link_id, application_no, expires = payload.get("l"), payload.get("a"), payload.get("e")
    if not isinstance(link_id, str) or not isinstance(application_no, str) or not isinstance(expires, int):
        raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
    now = clock_of(session).now()
    if now.timestamp() >= expires:
        raise Gone("The rating link has expired.", code="rating_link_expired")
    link = await repository.get_link_for_update(session, link_id)
    if link is None or link.application_no != application_no:
        raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
    if link.used_at is not None:
        raise Conflict("The rating link has been used already.", code="rating_link_used")
    if link.expires_at <= now:
        raise Gone("The rating link has expired.", code="rating_link_expired")
    application = await ratable_application(session, application_no=application_no)
    review, rectification_id = await _submit_once(
        session,
        settings=settings,
        channel="link",
        application=application,
        score=score,
        comment=comment,
        indicators=indicators,
    )
    link.used_at = now
    link.review_id = review.review_id
    return review, rectification_id


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
