"""Every query on reviews, rating links and signing secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.rating.reviews.models import RatingLink, Review, SigningSecret

GROUPS = {
    "department": Review.department,
    "window": Review.window,
    "item": Review.item_code,
    "clerk": Review.clerk,
    "channel": Review.channel,
}


def add(session: AsyncSession, review: Review) -> None:
    """Stage a new review."""
    session.add(review)


async def get(session: AsyncSession, review_id: str) -> Review | None:
    """One review."""
    return await session.get(Review, review_id)


async def dedupe_key_taken(session: AsyncSession, key: str) -> bool:
    """True when a review with this uniqueness key exists."""
    found = await session.execute(select(Review.review_id).where(Review.dedupe_key == key))
    return found.first() is not None


async def existing_dedupe_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of ``keys`` are already taken (in chunks: a survey file can be large)."""
    taken: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = await session.execute(select(Review.dedupe_key).where(Review.dedupe_key.in_(chunk)))
        taken.update(k for k in rows.scalars() if k is not None)
    return taken


async def count_kiosk_votes_since(session: AsyncSession, kiosk_id: str, since: datetime) -> int:
    """How many votes a kiosk cast since ``since``."""
    count = await session.execute(
        select(func.count()).select_from(Review).where(Review.kiosk_id == kiosk_id, Review.rated_at > since)
    )
    return int(count.scalar_one())


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
    department: str | None = None,
    rater_id_number: str | None = None,
    channel: str | None = None,
    application_no: str | None = None,
) -> list[Review]:
    """Newest first, keyset-paginated on (rated_at, review_id)."""
    query = select(Review)
    if department is not None:
        query = query.where(Review.department == department)
    if rater_id_number is not None:
        query = query.where(Review.rater_id_number == rater_id_number)
    if channel is not None:
        query = query.where(Review.channel == channel)
    if application_no is not None:
        query = query.where(Review.application_no == application_no)
    if after is not None:
        at, review_id = after
        query = query.where(or_(Review.rated_at < at, and_(Review.rated_at == at, Review.review_id < review_id)))
    query = query.order_by(Review.rated_at.desc(), Review.review_id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class StatRow:
    """One group of the satisfaction figures."""

    key: str | None
    count: int
    satisfied: int
    bad: int
    rectified: int
    rectified_on_time: int
    score_sum: int
    by_score: dict[int, int]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


async def stats(
    session: AsyncSession,
    *,
    by: str,
    lower: datetime | None,
    upper: datetime | None,
    channel: str | None = None,
) -> list[StatRow]:
    """Counts per group over a period: every figure in one pass over the period's reviews."""
    key = GROUPS[by]
    query = select(
        key.label("key"),
        func.count().label("n"),
        _count_if(Review.score >= 3).label("satisfied"),
        _count_if(Review.score <= 2).label("bad"),
        _count_if(Review.rectified.is_(True)).label("rectified"),
        _count_if(Review.rectified_on_time.is_(True)).label("rectified_on_time"),
        func.coalesce(func.sum(Review.score), 0).cast(Integer).label("score_sum"),
        *(_count_if(Review.score == s).label(f"s{s}") for s in range(1, 6)),
    ).where(Review.annulled.is_(False))
    if lower is not None:
        query = query.where(Review.rated_at >= lower)
    if upper is not None:
        query = query.where(Review.rated_at < upper)
    if channel is not None:
        query = query.where(Review.channel == channel)
    query = query.group_by(key).order_by(key)
    rows = (await session.execute(query)).all()
    return [
        StatRow(
            key=row.key,
            count=int(row.n),
            satisfied=int(row.satisfied),
            bad=int(row.bad),
            rectified=int(row.rectified),
            rectified_on_time=int(row.rectified_on_time),
            score_sum=int(row.score_sum),
            by_score={s: int(getattr(row, f"s{s}")) for s in range(1, 6)},
        )
        for row in rows
    ]


async def mark_rectified(session: AsyncSession, review_id: str, *, on_time: bool | None) -> None:
    """A bad review's rectification closed (on time or not, or not known yet)."""
    await session.execute(
        update(Review).where(Review.review_id == review_id).values(rectified=True, rectified_on_time=on_time)
    )


async def annul(session: AsyncSession, review_id: str) -> None:
    """An upheld appeal: the review no longer counts."""
    await session.execute(update(Review).where(Review.review_id == review_id).values(annulled=True))


def add_link(session: AsyncSession, link: RatingLink) -> None:
    """Stage a new rating link."""
    session.add(link)


async def get_link_for_update(session: AsyncSession, link_id: str) -> RatingLink | None:
    """A rating link, row-locked so two uses of one token cannot both pass."""
    result = await session.execute(select(RatingLink).where(RatingLink.link_id == link_id).with_for_update())
    return result.scalar_one_or_none()


async def get_secret(session: AsyncSession, name: str) -> str | None:
    """A kept signing secret."""
    row = await session.get(SigningSecret, name)
    return row.secret if row is not None else None


def add_secret(session: AsyncSession, secret: SigningSecret) -> None:
    """Stage a new signing secret."""
    session.add(secret)
