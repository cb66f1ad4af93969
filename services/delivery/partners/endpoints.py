"""Courier partners: who is under contract and who takes waybills now."""

from __future__ import annotations

from fastapi import APIRouter

from owkernel.app import SessionDep
from owkernel.errors import NotFound
from owkernel.kernel import clock_of
from owkernel.roles import Admin, Staff
from services.delivery.partners import repository
from services.delivery.partners.catalog import PARTNERS, PartnerSpec, partner
from services.delivery.partners.models import PartnerAvailability
from services.delivery.partners.schemas import AvailabilityIn, AvailabilityOut, PartnerOut
from services.delivery.shipments import service as shipments

router = APIRouter(tags=["partners"])


def to_out(spec: PartnerSpec, row: PartnerAvailability | None) -> PartnerOut:
    """A partner's terms and availability."""
    return PartnerOut(
        carrier=spec.code,
        name=spec.name,
        priority=spec.priority,
        provinces=sorted(spec.provinces),
        tariff_fen=dict(spec.tariff_fen),
        available=row.available if row else True,
        note=row.note if row else None,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


@router.get("/api/v1/delivery/partners", response_model=list[PartnerOut], summary="Courier partners")
async def list_partners(session: SessionDep, _: Staff) -> list[PartnerOut]:
    """Every partner under contract, with its tariff per zone and availability."""
    rows = await repository.availability(session)
    return [to_out(spec, rows.get(spec.code)) for spec in PARTNERS]


@router.put(
    "/api/v1/delivery/partners/{carrier}/availability",
    response_model=AvailabilityOut,
    summary="Switch a partner on or off",
)
async def set_availability(carrier: str, body: AvailabilityIn, session: SessionDep, admin: Admin) -> AvailabilityOut:
    """An unavailable partner gets no new waybills; shipments that waited are booked when one returns."""
    spec = partner(carrier)
    if spec is None:
        raise NotFound(f"No courier partner {carrier!r} is under contract.")
    row = await repository.get_availability(session, carrier)
    now = clock_of(session).now()
    if row is None:
        row = PartnerAvailability(carrier=carrier, available=body.available, updated_at=now)
        session.add(row)
    row.available = body.available
    row.note = body.note
    row.updated_by = admin.display
    row.updated_at = now
    await session.flush()
    repository.forget_unavailable(session)
    booked = await shipments.assign_pending(session) if body.available else 0
    return AvailabilityOut(**to_out(spec, row).model_dump(), booked_pending=booked)
