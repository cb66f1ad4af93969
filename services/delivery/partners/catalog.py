"""The courier partners under contract: coverage, priority and tariff per zone.

The rule that picks a partner for an address: among the partners that cover its province and
are available, the one with the lowest tariff for its zone; a tie goes to the higher priority
(lower number). A re-ship after a failure prefers a partner other than the one that failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.delivery.regions.divisions import Zone


@dataclass(frozen=True)
class PartnerSpec:
    """One partner's contract terms."""

    code: str
    name: str
    priority: int
    # Two-digit province codes covered; empty means the whole country.
    provinces: frozenset[str]
    tariff_fen: dict[str, int] = field(default_factory=dict)

    def covers(self, region_code: str) -> bool:
        """True if the partner delivers to (and collects from) this address."""
        return not self.provinces or region_code[:2] in self.provinces

    def fee_fen(self, zone: Zone) -> int | None:
        """The contract fee for one parcel in a zone, or None when the zone is not priced."""
        return self.tariff_fen.get(zone)


# The local run's two simulated partners: a regional express network (Shandong only, cheapest
# inside the city) and the postal service, which reaches every village in the country.
PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec(
        code="sim-express",
        name="模拟快递 (Simulated Express)",
        priority=1,
        provinces=frozenset({"37"}),
        tariff_fen={"city": 500, "province": 900},
    ),
    PartnerSpec(
        code="sim-post",
        name="模拟邮政 (Simulated Post)",
        priority=2,
        provinces=frozenset(),
        tariff_fen={"city": 700, "province": 900, "national": 1200, "remote": 2000},
    ),
)

BY_CODE = {p.code: p for p in PARTNERS}


def partner(code: str) -> PartnerSpec | None:
    """The partner with this carrier code."""
    return BY_CODE.get(code)


def choose_partner(
    *, region_code: str, zone: Zone, unavailable: Iterable[str], avoid: Iterable[str] = ()
) -> PartnerSpec | None:
    """The partner the rule picks for an address, or None when nobody can take it now."""
    down = set(unavailable)
    candidates = [p for p in PARTNERS if p.code not in down and p.covers(region_code) and p.fee_fen(zone) is not None]
    if not candidates:
        return None
    avoided = set(avoid)
    preferred = [p for p in candidates if p.code not in avoided] or candidates
    return min(preferred, key=lambda p: (p.fee_fen(zone) or 0, p.priority))
