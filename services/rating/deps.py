"""Rating's typed kernel: its state, the route dependencies and ``kernel_of`` for handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import kernel as owkernel_kernel
from owkernel.kernel import Kernel, kernel_dependency
from services.rating.messages.service import MessageSender
from services.rating.reviews.links import LinkSigner
from services.rating.settings import RatingSettings


@dataclass(frozen=True)
class RatingState:
    """What rating keeps beside the kernel: the link signer (secret loaded at start) and the sender."""

    link_signer: LinkSigner
    message_sender: MessageSender


RatingKernel = Kernel[RatingSettings, RatingState]
KernelDep = Annotated[RatingKernel, Depends(kernel_dependency)]


async def get_settings(kernel: KernelDep) -> RatingSettings:
    """The running service's settings."""
    return kernel.settings


async def get_signer(kernel: KernelDep) -> LinkSigner:
    """The rating-link signer (its secret is loaded at start-up)."""
    return kernel.state.link_signer


async def get_sender(kernel: KernelDep) -> MessageSender:
    """The sender that takes messages to applicants (chosen by ``RATING_MESSAGE_SENDER``)."""
    return kernel.state.message_sender


SettingsDep = Annotated[RatingSettings, Depends(get_settings)]
SignerDep = Annotated[LinkSigner, Depends(get_signer)]
SenderDep = Annotated[MessageSender, Depends(get_sender)]


def kernel_of(session: AsyncSession) -> RatingKernel:
    """Rating's kernel, for code that holds only a session (handlers, service functions)."""
    return owkernel_kernel.kernel_of(session)
