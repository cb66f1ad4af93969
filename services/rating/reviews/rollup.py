"""Keeping the daily figures in step with the ratings.

Every change that alters what a rating counts for (it is saved, annulled on appeal, its
rectification closes or supervision says whether in time) adds its difference to the
``rating_daily`` rows of the rating's day, one row per grouping, in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.rating.reviews import repository
from services.rating.reviews.models import Review
from services.rating.reviews.repository import COUNTERS

# The grouping of the figures -> the rating's attribute it groups by.
DIMS = {
    "department": "department",
    "window": "window",
    "item": "item_code",
    "clerk": "clerk",
    "channel": "channel",
    "hall": "hall",
}


def contribution(review: Review) -> Counter[str]:
    """What one rating adds to the figures (nothing once annulled)."""
    if review.annulled:
        return Counter()
    return Counter(
        {
            "n": 1,
            "satisfied": int(review.score >= 3),
            "bad": int(review.score <= 2),
            "rectified": int(bool(review.rectified)),
            "rectified_on_time": int(review.rectified_on_time is True),
            "score_sum": review.score,
            f"s{review.score}": 1,
        }
    )


class Rollup:
    """Differences to the daily figures, gathered and then written in one statement."""

    def __init__(self) -> None:
        self.deltas: dict[tuple[str, date, str, str], Counter[str]] = {}

    def add(self, review: Review, delta: Counter[str]) -> None:
        """Add ``delta`` to every grouping's row of the rating's day."""
        if not any(delta.values()):
            return
        for dim, attribute in DIMS.items():
            key = (dim, review.rated_on, getattr(review, attribute) or "", review.channel)
            self.deltas.setdefault(key, Counter()).update(delta)

    async def flush(self, session: AsyncSession) -> None:
        """Write the gathered differences (sorted, so concurrent writers lock rows in one order)."""
        rows = [
            {"dim": dim, "day": day, "key": key, "channel": channel, **{c: delta.get(c, 0) for c in COUNTERS}}
            for (dim, day, key, channel), delta in sorted(self.deltas.items())
        ]
        self.deltas.clear()
        if rows:
            await repository.bump_daily(session, rows)


async def counted(session: AsyncSession, review: Review) -> None:
    """A new rating counts."""
    rollup = Rollup()
    rollup.add(review, contribution(review))
    await rollup.flush(session)


async def annul(session: AsyncSession, *, review_id: str) -> None:
    """An upheld appeal: the rating stops counting."""
    review = await repository.get_for_update(session, review_id)
    if review is None or review.annulled:
        return
    before = contribution(review)
    review.annulled = True
    await _apply(session, review, before)


async def rectified(session: AsyncSession, *, review_id: str, on_time: bool | None) -> None:
    """A bad rating's case closed, on time or not (or not known yet)."""
    review = await repository.get_for_update(session, review_id)
    if review is None:
        return
    before = contribution(review)
    review.rectified = True
    review.rectified_on_time = on_time
    await _apply(session, review, before)


async def _apply(session: AsyncSession, review: Review, before: Counter[str]) -> None:
    delta = Counter(contribution(review))
    delta.subtract(before)
    rollup = Rollup()
    rollup.add(review, delta)
    await rollup.flush(session)
