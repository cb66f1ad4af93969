"""The monthly bill: every fee is owed by finance to the carrier, never by the applicant."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.billing import repository
from services.delivery.billing.schemas import BillOut, CarrierBill, ZoneLine
from services.delivery.partners.catalog import PARTNERS, partner
from services.delivery.shipments.models import Shipment
from services.delivery.timeutil import as_utc


@dataclass(frozen=True)
class MonthWindow:
    """A calendar month in local time, as a UTC [start, end) range."""

    month: str
    timezone: str
    start: datetime
    end: datetime


def month_window(month: str, *, timezone: str) -> MonthWindow:
    """The month ``YYYY-MM`` in ``timezone`` (the caller checked the shape)."""
    tz = ZoneInfo(timezone)
    year, mon = int(month[:4]), int(month[5:7])
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=tz)
    return MonthWindow(month=month, timezone=timezone, start=as_utc(start), end=as_utc(end))


async def bill(session: AsyncSession, *, window: MonthWindow) -> BillOut:
    """Per carrier: shipments and fees of the month, by direction and zone."""
    rows = await repository.totals(session, start=window.start, end=window.end)
    by_carrier: dict[str, CarrierBill] = {
        p.code: CarrierBill(carrier=p.code, carrier_name=p.name, shipments=0, outbound=0, inbound=0, total_fee_fen=0)
        for p in PARTNERS
    }
    for maybe_carrier, direction, zone, count, fee in rows:
        carrier = maybe_carrier or "unknown"  # billable rows always have a carrier
        spec = partner(carrier)
        entry = by_carrier.setdefault(
            carrier,
            CarrierBill(
                carrier=carrier,
                carrier_name=spec.name if spec else carrier,
                shipments=0,
                outbound=0,
                inbound=0,
                total_fee_fen=0,
            ),
        )
        entry.shipments += int(count)
        entry.total_fee_fen += int(fee)
        if direction == "inbound":
            entry.inbound += int(count)
        else:
            entry.outbound += int(count)
        existing = next((z for z in entry.by_zone if z.zone == zone), None)
        if existing is None:
            entry.by_zone.append(ZoneLine(zone=zone, shipments=int(count), fee_fen=int(fee)))
        else:
            existing.shipments += int(count)
            existing.fee_fen += int(fee)
    items = sorted(by_carrier.values(), key=lambda c: c.carrier)
    for item in items:
        item.by_zone.sort(key=lambda z: z.zone)
    return BillOut(
        month=window.month,
        timezone=window.timezone,
        period_start=window.start,
        period_end=window.end,
        items=items,
        total_shipments=sum(i.shipments for i in items),
        total_fee_fen=sum(i.total_fee_fen for i in items),
    )


CSV_COLUMNS = (
    "month",
    "carrier",
    "shipment_id",
    "tracking_no",
    "application_no",
    "direction",
    "attempt",
    "zone",
    "region_code",
    "waybill_at",
    "status",
    "fee_fen",
    "payer",
)


def bill_csv(window: MonthWindow, shipments: Sequence[Shipment]) -> str:
    """One line per billable shipment, for settlement with each carrier."""
    tz = ZoneInfo(window.timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in shipments:
        waybill_at = s.waybill_at.astimezone(tz).isoformat() if s.waybill_at else ""
        writer.writerow(
            (
                window.month,
                s.carrier,
                s.id,
                s.tracking_no,
                s.application_no,
                s.direction,
                s.attempt,
                s.zone,
                s.region_code,
                waybill_at,
                s.status,
                s.fee_fen,
                "finance",
            )
        )
    return out.getvalue()


async def bill_lines(session: AsyncSession, *, window: MonthWindow, carrier: str | None) -> Sequence[Shipment]:
    """The shipments behind the bill."""
    return await repository.lines(session, start=window.start, end=window.end, carrier=carrier)
