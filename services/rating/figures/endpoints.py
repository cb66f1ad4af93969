"""The figures the center publishes (anyone), their CSV, and the admin's import of earlier months."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from owkernel import PayloadTooLarge, SessionDep, Unprocessable
from owkernel.errors import field_error
from owkernel.kernel import clock_of
from owkernel.roles import Admin
from services.rating.common import local_date
from services.rating.deps import SettingsDep
from services.rating.figures import service
from services.rating.figures.schemas import HALL, FiguresOut, HistoryIn, HistoryResult, ProjectsOut

router = APIRouter(prefix="/api/v1/figures", tags=["figures"])
MonthParam = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]
# An import is a few years of months for a few halls: far below this.
MAX_IMPORT_BYTES = 1 << 20


@router.get(
    "",
    response_model=FiguresOut,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"}},
)
async def get_figures(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}$")] = None,
    end: Annotated[str | None, Query(alias="to", pattern=r"^\d{4}-\d{2}$")] = None,
    hall: Annotated[str | None, Query(pattern=HALL)] = None,
) -> Any:
    """Per month and in total: applications, online, zero/one-trip and 容缺 shares, on time, red cards,
    consultations on time, satisfaction, projects (the last twelve months by default)."""
    out = await service.figures(
        session, settings=settings, start=start, end=end, hall=hall, today=local_date(clock_of(session).now(), settings)
    )
    if "text/csv" in request.headers.get("accept", ""):
        return Response(service.figures_csv(out), media_type="text/csv; charset=utf-8")
    return out


@router.get("/projects", response_model=ProjectsOut)
async def get_projects(session: SessionDep) -> Any:
    """The four stages' committed working days (parallel and one after another) and the days really used."""
    return await service.projects(session)


@router.post(
    "/history",
    status_code=201,
    response_model=HistoryResult,
    # The body is read raw (JSON or CSV), so FastAPI cannot see it to document these itself.
    responses={
        413: {"description": "The import is larger than the limit."},
        422: {"description": "Not UTF-8, not JSON or CSV, or a month or field that is wrong."},
    },
)
async def import_history(request: Request, session: SessionDep, admin: Admin) -> Any:
    """Import the center's published monthly figures from before the platform (CSV or JSON)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"An import may be at most {MAX_IMPORT_BYTES} bytes.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable("The import is not UTF-8.", errors=[field_error("body", "not UTF-8", "not_utf8")]) from exc
    if "csv" in request.headers.get("content-type", "").lower():
        data: HistoryIn = service.parse_history_csv(text)
    else:
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise Unprocessable("The body is not JSON.", errors=[field_error("body", "not JSON", "not_json")]) from exc
        data = service.history_in(payload)
    return await service.import_history(session, data=data, by=admin.display)
