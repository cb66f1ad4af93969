"""Consultation routes: ask, reply, read."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request

from owkernel.app import SessionDep
from owkernel.auth import CurrentPrincipal
from owkernel.errors import Forbidden
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.pagination import CursorParam, LimitParam, Page, decode_id_cursor, page_of
from services.intake.common import sees_everything
from services.intake.consultations import repository, service
from services.intake.consultations.schemas import ConsultationIn, ConsultationOut, ReplyIn
from services.intake.db import tables
from services.intake.deps import SettingsDep

router = APIRouter(prefix="/api/v1/consultations", tags=["consultations"])
idempotency = Idempotency(tables)


@router.post("", status_code=201, response_model=ConsultationOut)
async def ask(
    body: ConsultationIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> object:
    """A question on a service item; its reply clock starts."""
    fingerprint = request_hash("POST /api/v1/consultations", body.model_dump_json())
    replay = await idempotency.replay(session, owner=principal.subject_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    result = service.out(await service.ask(session, settings=settings, principal=principal, data=body))
    await idempotency.remember(
        session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=201, body=result
    )
    return result


@router.post("/{consultation_id}/reply")
async def reply(
    consultation_id: str, body: ReplyIn, session: SessionDep, principal: CurrentPrincipal
) -> ConsultationOut:
    """A staff reply; the clock closes."""
    return service.out(await service.reply(session, principal=principal, consultation_id=consultation_id, data=body))


@router.get("/{consultation_id}")
async def get_consultation(consultation_id: str, session: SessionDep, principal: CurrentPrincipal) -> ConsultationOut:
    """One consultation."""
    row = await service.load(session, consultation_id)
    service.ensure_can_read(principal, row)
    return service.out(row)


@router.get("")
async def list_consultations(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Literal["open", "replied"] | None = None,
    department: str | None = None,
    item_code: str | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ConsultationOut]:
    """Newest first: the asker's own; a department's for its staff; all for clerks and supervisors."""
    asker = None
    if not principal.is_staff:
        asker = principal.subject_id
    elif not sees_everything(principal):
        if not principal.department or department not in (None, principal.department):
            raise Forbidden("Department staff see their own department's consultations.")
        department = principal.department
    before = decode_id_cursor(cursor)
    rows = await repository.page(
        session,
        asker=asker,
        department=department,
        status=status,
        item_code=item_code,
        before_id=before,
        limit=limit + 1,
    )
    return page_of(rows, limit, key=lambda r: [r.id], item=service.out)
