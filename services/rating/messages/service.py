"""How a message reaches an applicant: the sender ``RATING_MESSAGE_SENDER`` names, and their inbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Forbidden, Principal
from owkernel.kernel import clock_of
from services.rating.common import new_id
from services.rating.messages import repository
from services.rating.messages.models import ApplicantMessage
from services.rating.settings import RatingSettings


@dataclass(frozen=True)
class Sms:
    """A text to an applicant; the link fields name the rating link it carries."""

    id_number: str
    phone: str | None
    kind: str
    text: str
    application_no: str | None = None
    link_id: str | None = None
    url: str | None = None
    token: str | None = None


class MessageSender(Protocol):
    """Sends a message to an applicant from inside the request's transaction."""

    channel: str

    async def send(self, session: AsyncSession, message: Sms) -> str | None:
        """Send (or stage) ``message``; returns where it went, masked, fit for staff to see."""
        ...


class SimulatedSms:
    """The local run's SMS gateway: the message is kept in ``applicant_messages`` for the applicant.

    It is written in the request's transaction, so a refused or rolled-back request sends nothing;
    a real gateway would stage its message the same way and deliver it after the commit, as the
    outbox relay does with events.
    """

    channel = "sms"

    async def send(self, session: AsyncSession, message: Sms) -> str | None:
        """Keep the message in the applicant's inbox."""
        repository.add(
            session,
            ApplicantMessage(
                message_id=new_id("MS"),
                id_number=message.id_number,
                phone=message.phone,
                kind=message.kind,
                text=message.text,
                application_no=message.application_no,
                link_id=message.link_id,
                url=message.url,
                token=message.token,
                sent_at=clock_of(session).now(),
            ),
        )
        return mask_phone(message.phone) if message.phone else None


SENDERS: dict[str, Callable[[], MessageSender]] = {"simulated": SimulatedSms}


def sender_for(settings: RatingSettings) -> MessageSender:
    """The sender the settings name."""
    return SENDERS[settings.message_sender]()


def mask_phone(phone: str) -> str:
    """A phone number as staff may see it: the first three and last four digits (``138****0000``)."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) <= 7:
        return "*" * max(0, len(digits) - 2) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


async def link_messages(
    session: AsyncSession, *, principal: Principal, limit: int, after: tuple[datetime, str] | None
) -> list[dict[str, Any]]:
    """The rating links sent to the logged-in applicant, newest first; nobody else reads them."""
    if principal.kind not in ("person", "enterprise") or not principal.id_number:
        raise Forbidden("Rating links are read by the applicant they were sent to.")
    now = clock_of(session).now()
    rows = await repository.link_messages(session, id_number=principal.id_number, limit=limit, after=after)
    out: list[dict[str, Any]] = []
    for message, expires_at, used_at in rows:
        status = "used" if used_at is not None else "expired" if expires_at <= now else "pending"
        out.append(
            {
                "message_id": message.message_id,
                "link_id": message.link_id,
                "application_no": message.application_no,
                "text": message.text,
                "url": message.url,
                "token": message.token,
                "sent_at": message.sent_at,
                "expires_at": expires_at,
                "status": status,
            }
        )
    return out
