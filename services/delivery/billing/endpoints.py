"""Finance's monthly bill and its CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from owkernel.app import SessionDep
from owkernel.roles import Finance
from services.delivery.billing import service
from services.delivery.billing.schemas import BillOut
from services.delivery.deps import SettingsDep

router = APIRouter(tags=["bill"])
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, local time")]


@router.get("/api/v1/delivery/bill", response_model=BillOut, summary="The month's courier bill, per carrier")
async def get_bill(month: Month, settings: SettingsDep, session: SessionDep, _: Finance) -> BillOut:
    """Per carrier: shipments and total fee of the month, all paid by finance."""
    return await service.bill(session, window=service.month_window(month, timezone=settings.billing_timezone))


@router.get("/api/v1/delivery/bill/export", summary="The month's bill as CSV, one line per shipment")
async def export_bill(
    month: Month,
    settings: SettingsDep,
    session: SessionDep,
    _: Finance,
    carrier: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """CSV for settlement with the carriers."""
    window = service.month_window(month, timezone=settings.billing_timezone)
    lines = await service.bill_lines(session, window=window, carrier=carrier)
    suffix = f"-{carrier}" if carrier else ""
    return Response(
        service.bill_csv(window, lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="delivery-bill-{month}{suffix}.csv"'},
    )
