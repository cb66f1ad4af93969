"""Rating links (SMS): a signed, single-use, expiring link lets the applicant rate without logging in."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import Conflict, Principal, Problem, Unauthorized
from owkernel.kernel import clock_of
from services.rating.common import new_id, zone
from services.rating.messages.service import MessageSender, Sms
from services.rating.reviews import repository
from services.rating.reviews.models import RatingLink, Review, SigningSecret
from services.rating.reviews.service import ratable_application, submit_once
from services.rating.settings import RatingSettings

LINK_SECRET_NAME = "rating-link"


class Gone(Problem):
    """410: the thing existed and is no longer usable (an expired link)."""

    status = 410


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class LinkSigner:
    """Signs and verifies rating-link tokens: ``payload.signature`` with HMAC-SHA256."""

    secret: bytes | None = None

    def sign(self, payload: dict[str, Any]) -> str:
        """A token carrying ``payload``."""
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> dict[str, Any]:
        """The payload of an authentic token; 401 for anything else."""
        body, dot, mac = token.partition(".")
        if not dot or not hmac.compare_digest(mac, self._mac(body)):
            raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error) as exc:
            raise Unauthorized("The rating link is not valid.", code="rating_link_invalid") from exc
        if not isinstance(payload, dict):
            raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
        return payload

    def _mac(self, body: str) -> str:
        if self.secret is None:
            raise RuntimeError("the link signer has no secret yet")
        return _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest())


async def load_link_secret(session: AsyncSession, *, settings: RatingSettings) -> bytes:
    """The configured link secret, else the one generated once and kept in the database."""
    if settings.link_secret is not None and settings.link_secret.get_secret_value():
        return settings.link_secret.get_secret_value().encode()
    kept = await repository.get_secret(session, LINK_SECRET_NAME)
    if kept is None:
        kept = secrets.token_urlsafe(48)
        repository.add_secret(
            session, SigningSecret(name=LINK_SECRET_NAME, secret=kept, created_at=clock_of(session).now())
        )
    return kept.encode()


async def create_link(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    signer: LinkSigner,
    sender: MessageSender,
    principal: Principal,
    application_no: str,
) -> tuple[RatingLink, str | None]:
    """Send the applicant of a decided application a signed, single-use, expiring rating link.

    The token goes only to the applicant (by ``sender``); the staff member who asked gets the link
    back with where it went (masked), never the token. Returns the link and that destination.
    """
    application = await ratable_application(session, application_no=application_no)
    now = clock_of(session).now()
    link = RatingLink(
        link_id=new_id("LK"),
        application_no=application.application_no,
        created_by=principal.username or principal.subject_id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.link_ttl_hours),
    )
    repository.add_link(session, link)
    token = signer.sign({"l": link.link_id, "a": link.application_no, "e": int(link.expires_at.timestamp())})
    url = f"{settings.link_base_url}?token={token}"
    local_expiry = link.expires_at.astimezone(zone(settings)).strftime("%Y-%m-%d %H:%M")
    text = (
        f"【一网通办】您办理的“{application.item_name}”（{application.application_no}）已办结，"
        f"请为我们的服务评价：{url} 链接仅可使用一次，{local_expiry} 前有效。"
    )
    sent_to = await sender.send(
        session,
        Sms(
            id_number=application.applicant_id_number,
            phone=application.applicant_phone,
            kind="rating_link",
            text=text,
            application_no=application.application_no,
            link_id=link.link_id,
            url=url,
            token=token,
        ),
    )
    return link, sent_to


async def rate_by_link(
    session: AsyncSession,
    *,
    settings: RatingSettings,
    signer: LinkSigner,
    token: str,
    score: int,
    comment: str | None,
    indicators: dict[str, int] | None,
) -> tuple[Review, str | None]:
    """Rate without logging in: the token names the application; it works once, before it expires."""
    payload = signer.verify(token)
    link_id, application_no, expires = payload.get("l"), payload.get("a"), payload.get("e")
    if not isinstance(link_id, str) or not isinstance(application_no, str) or not isinstance(expires, int):
        raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
    now = clock_of(session).now()
    if now.timestamp() >= expires:
        raise Gone("The rating link has expired.", code="rating_link_expired")
    link = await repository.get_link_for_update(session, link_id)
    if link is None or link.application_no != application_no:
        raise Unauthorized("The rating link is not valid.", code="rating_link_invalid")
    if link.used_at is not None:
        raise Conflict("The rating link has been used already.", code="rating_link_used")
    if link.expires_at <= now:
        raise Gone("The rating link has expired.", code="rating_link_expired")
    application = await ratable_application(session, application_no=application_no)
    review, rectification_id = await submit_once(
        session,
        settings=settings,
        channel="link",
        application=application,
        score=score,
        comment=comment,
        indicators=indicators,
    )
    link.used_at = now
    link.review_id = review.review_id
    return review, rectification_id
