"""Every query on reviews, rating links and signing secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, delete, func, literal, literal_column, or_, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from owkernel.db import conflict_insert
from services.rating.reviews.models import RatingDaily, RatingLink, Review, SigningSecret

# A literal, not a bound parameter: PostgreSQL must see GROUP BY and SELECT use the same expression.
EMPTY: ColumnElement[str] = literal_column("''")
COUNTERS = ("n", "satisfied", "bad", "rectified", "rectified_on_time", "score_sum", "s1", "s2", "s3", "s4", "s5")
GROUPS = {
    "department": Review.department,
    "window": Review.window,
    "item": Review.item_code,
    "clerk": Review.clerk,
    "channel": Review.channel,
    "hall": Review.hall,
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


def _sum(column: ColumnElement[int] | QueryableAttribute[int]) -> ColumnElement[int]:
    return func.coalesce(func.sum(column), 0).cast(Integer)


def _stat_rows(rows: Any) -> list[StatRow]:
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


async def stats(
    session: AsyncSession, *, by: str, start: date | None, end: date | None, channel: str | None = None
) -> list[StatRow]:
    """Figures per group over local days ``start``..``end`` (inclusive), from the daily roll-up."""
    d = RatingDaily
    query = select(
        func.nullif(d.key, "").label("key"),
        *(_sum(getattr(d, c)).label(c) for c in COUNTERS),
    ).where(d.dim == by)
    if start is not None:
        query = query.where(d.day >= start)
    if end is not None:
        query = query.where(d.day <= end)
    if channel is not None:
        query = query.where(d.channel == channel)
    query = query.group_by(d.key).having(func.sum(d.n) > 0).order_by(d.key)
    return _stat_rows(await session.execute(query))


async def stats_from_ratings(
    session: AsyncSession,
    *,
    by: str,
    start: date | None,
    end: date | None,
    channel: str | None = None,
    hall: str | None = None,
) -> list[StatRow]:
    """The same figures counted from every rating (the roll-up's reference; one hall's figures)."""
    key = GROUPS[by]
    query = select(
        key.label("key"),
        func.count().label("n"),
        _count_if(Review.score >= 3).label("satisfied"),
        _count_if(Review.score <= 2).label("bad"),
        _count_if(Review.rectified.is_(True)).label("rectified"),
        _count_if(Review.rectified_on_time.is_(True)).label("rectified_on_time"),
        _sum(Review.score).label("score_sum"),
        *(_count_if(Review.score == s).label(f"s{s}") for s in range(1, 6)),
    ).where(Review.annulled.is_(False))
    if start is not None:
        query = query.where(Review.rated_on >= start)
    if end is not None:
        query = query.where(Review.rated_on <= end)
    if channel is not None:
        query = query.where(Review.channel == channel)
    if hall is not None:
        # The hall's index bounds the scan to its own ratings.
        query = query.where(Review.hall == hall)
    # Ordered as the roll-up orders them: the unattributed group ("") first on every backend.
    query = query.group_by(key).order_by(func.coalesce(key, EMPTY))
    return _stat_rows(await session.execute(query))


async def bump_daily(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Add differences to daily roll-up rows, creating the rows that do not exist yet."""
    statement = conflict_insert(session, RatingDaily)
    statement = statement.on_conflict_do_update(
        index_elements=["dim", "day", "key", "channel"],
        set_={c: getattr(RatingDaily, c) + getattr(statement.excluded, c) for c in COUNTERS},
    )
    await session.execute(statement, rows)


async def rebuild_daily(session: AsyncSession) -> None:
    """Recount the whole daily roll-up from the ratings (after a bulk load, or to repair it)."""
    await session.execute(delete(RatingDaily))
    for dim, column in GROUPS.items():
        source = select(
            literal(dim).label("dim"),
            Review.rated_on,
            func.coalesce(column, EMPTY).label("key"),
            Review.channel,
            func.count(),
            _count_if(Review.score >= 3),
            _count_if(Review.score <= 2),
            _count_if(Review.rectified.is_(True)),
            _count_if(Review.rectified_on_time.is_(True)),
            _sum(Review.score),
            *(_count_if(Review.score == s) for s in range(1, 6)),
        ).where(Review.annulled.is_(False))
        source = source.group_by(Review.rated_on, func.coalesce(column, EMPTY), Review.channel)
        await session.execute(sa_insert(RatingDaily).from_select(["dim", "day", "key", "channel", *COUNTERS], source))


async def get_for_update(session: AsyncSession, review_id: str) -> Review | None:
    """One review, row-locked for the rest of the transaction."""
    result = await session.execute(select(Review).where(Review.review_id == review_id).with_for_update())
    return result.scalar_one_or_none()


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
