"""Request dependencies shared by rating's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from owkernel import Principal, require_roles
from services.rating.messages.service import MessageSender
from services.rating.reviews.service import LinkSigner
from services.rating.settings import RatingSettings


async def get_rating_settings(request: Request) -> RatingSettings:
    """The running service's settings."""
    settings = request.app.state.kernel.settings
    assert isinstance(settings, RatingSettings)
    return settings


async def get_signer(request: Request) -> LinkSigner:
    """The rating-link signer (its secret is loaded at start-up)."""
    signer: LinkSigner = request.app.state.link_signer
    return signer


async def get_sender(request: Request) -> MessageSender:
    """The sender that takes messages to applicants (chosen by ``RATING_MESSAGE_SENDER``)."""
    sender: MessageSender = request.app.state.message_sender
    return sender


SettingsDep = Annotated[RatingSettings, Depends(get_rating_settings)]
SignerDep = Annotated[LinkSigner, Depends(get_signer)]
SenderDep = Annotated[MessageSender, Depends(get_sender)]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Supervisor = Annotated[Principal, Depends(require_roles("supervisor", "admin"))]
