"""Consultation rules: a question opens a reply clock, the department's staff close it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.auth import Principal
from owkernel.consumer import RetryLater
from owkernel.contracts.approval import ClockClosed, ClockOpened, ClockRescheduled
from owkernel.contracts.intake import ConsultationAsked, ConsultationReplied
from owkernel.errors import Conflict, Forbidden, NotFound
from owkernel.kernel import clock_of
from services.intake.catalog import service as catalog
from services.intake.common import sees_everything
from services.intake.consultations import repository
from services.intake.consultations.models import Consultation
from services.intake.consultations.schemas import ConsultationIn, ConsultationOut, ReplyIn
from services.intake.db import outbox
from services.intake.settings import IntakeSettings

REPLYING_ROLES = ("clerk", "approver", "supervisor", "admin")


def out(row: Consultation) -> ConsultationOut:
    """The API shape."""
    return ConsultationOut(
        consultation_id=row.consultation_id,
        item_code=row.item_code,
        item_name=row.item_name,
        department=row.department,
        question=row.question,
        asked_by=row.asker_name,
        asked_at=row.asked_at,
        reply_days=row.reply_days,
        status="replied" if row.status == "replied" else "open",
        answer=row.answer,
        replied_by=row.replied_by,
        replied_at=row.replied_at,
        due_date=row.due_date,
        on_time=row.on_time,
    )


async def ask(
    session: AsyncSession, *, settings: IntakeSettings, principal: Principal, data: ConsultationIn
) -> Consultation:
    """Ask a question on an item: published, so its reply clock starts."""
    item = await catalog.item_for_application(session, code=data.item_code)
    now = clock_of(session).now()
    row = Consultation(
        consultation_id=uuid.uuid4().hex,
        item_code=item.code,
        item_name=item.name,
        department=item.department,
        question=data.question,
        asker_subject_id=principal.subject_id,
        asker_id_number=principal.id_number,
        asker_name=principal.name or principal.display,
        asked_at=now,
        reply_days=settings.consultation_reply_days,
        status="open",
    )
    session.add(row)
    await outbox.add(
        session,
        ConsultationAsked(
            consultation_id=row.consultation_id,
            item_code=item.code,
            department=item.department,
            asked_at=now,
            reply_days=settings.consultation_reply_days,
        ),
    )
    await session.flush()
    return row


def ensure_can_read(principal: Principal, row: Consultation) -> None:
    """The asker, the hall's clerks and supervisors, the department's staff."""
    if row.asker_subject_id == principal.subject_id or sees_everything(principal):
        return
    if principal.is_staff and principal.department == row.department:
        return
    raise Forbidden("This consultation is someone else's.")


async def load(session: AsyncSession, consultation_id: str, *, for_update: bool = False) -> Consultation:
    """A consultation or 404."""
    row = await repository.get(session, consultation_id, for_update=for_update)
    if row is None:
        raise NotFound(f"No consultation {consultation_id}.")
    return row


async def reply(session: AsyncSession, *, principal: Principal, consultation_id: str, data: ReplyIn) -> Consultation:
    """Answer: the reply clock closes (a second answer is a 409)."""
    row = await load(session, consultation_id, for_update=True)
    if not (principal.is_staff and principal.has_role(*REPLYING_ROLES)):
        raise Forbidden("Staff reply to consultations.")
    if principal.has_role("approver") and not sees_everything(principal) and principal.department != row.department:
        raise Forbidden("Department staff answer their own department's consultations.")
    if row.status == "replied":
        raise Conflict("This consultation was already answered.")
    now = clock_of(session).now()
    row.status = "replied"
    row.answer = data.answer
    row.replied_by = principal.display
    row.replied_at = now
    await outbox.add(
        session,
        ConsultationReplied(
            consultation_id=row.consultation_id, department=row.department, replied_at=now, replied_by=principal.display
        ),
    )
    return row


async def clock_opened(session: AsyncSession, data: ClockOpened | ClockRescheduled) -> None:
    """The approval service's reply clock: its due date shows on the consultation."""
    row = await repository.get(session, data.ref, for_update=True)
    if row is None:
        raise RetryLater(f"consultation {data.ref} is not known (yet)")
    row.due_date = data.due_date


async def clock_rescheduled(session: AsyncSession, data: ClockRescheduled) -> None:
    """The reply clock's due date moved."""
    await clock_opened(session, data)


async def clock_closed(session: AsyncSession, data: ClockClosed) -> None:
    """Whether the reply came on time."""
    row = await repository.get(session, data.ref, for_update=True)
    if row is None:
        raise RetryLater(f"consultation {data.ref} is not known (yet)")
    row.on_time = data.on_time
