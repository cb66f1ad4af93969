"""Queries of partner availability."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.partners.couriers import unconfigured
from services.delivery.partners.models import PartnerAvailability

# Where a transaction keeps what it read of the availability (see ``unavailable_carriers``).
_UNAVAILABLE = "delivery.unavailable_carriers"
# Built once: every certificate's transaction runs it.
_UNAVAILABLE_ROWS = select(PartnerAvailability.carrier).where(PartnerAvailability.available.is_(False))
# The same carriers as one value (comma-separated, NULL when none), for another statement to return
# beside its own columns: a certificate's UPDATE then reads the availability its booking needs, and
# the booking sends no SELECT of its own (``keep_unavailable``; issue 22).
UNAVAILABLE_LIST = (
    select(func.aggregate_strings(PartnerAvailability.carrier, ","))
    .where(PartnerAvailability.available.is_(False))
    .scalar_subquery()
)


async def unavailable_carriers(session: AsyncSession) -> set[str]:
    """Carriers taking no new waybills: marked so by an admin, or with no API configured here
    (read once per transaction).

    A consumer batch that books many shipments asks once: the answer is kept on the session
    for the rest of its transaction (a session is one unit of work here), and forgotten when
    an availability row is written (``forget_unavailable``).
    """
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_UNAVAILABLE)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return set(kept[1])
    rows = await session.execute(_UNAVAILABLE_ROWS)
    return set(_keep(session, frozenset(rows.scalars())))


def keep_unavailable(session: AsyncSession, marked: str | None) -> None:
    """Keep for the rest of this transaction what another statement read as ``UNAVAILABLE_LIST``
    (``unavailable_carriers`` then answers from it)."""
    _keep(session, frozenset(marked.split(",")) if marked else frozenset())


def _keep(session: AsyncSession, marked: frozenset[str]) -> frozenset[str]:
    found = marked | unconfigured(session)
    session.info[_UNAVAILABLE] = (session.sync_session.get_transaction(), found)
    return found


def forget_unavailable(session: AsyncSession) -> None:
    """Drop what this transaction read of the availability (after it changed a row)."""
    session.info.pop(_UNAVAILABLE, None)


async def availability(session: AsyncSession) -> dict[str, PartnerAvailability]:
    """Every availability row, by carrier."""
    rows = (await session.execute(select(PartnerAvailability))).scalars()
    return {row.carrier: row for row in rows}


async def get_availability(session: AsyncSession, carrier: str) -> PartnerAvailability | None:
    """One carrier's availability row."""
    return await session.get(PartnerAvailability, carrier)
