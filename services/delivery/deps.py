"""Delivery's typed kernel: its state, the route dependencies and ``kernel_of`` for handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import kernel as owkernel_kernel
from owkernel.kernel import Kernel, kernel_dependency
from services.delivery.partners.couriers import CourierApi
from services.delivery.partners.secrets import CourierSecrets
from services.delivery.settings import DeliverySettings


@dataclass(frozen=True)
class DeliveryState:
    """What delivery keeps beside the kernel: the couriers' webhook secrets and their APIs."""

    courier_secrets: CourierSecrets
    couriers: dict[str, CourierApi]


DeliveryKernel = Kernel[DeliverySettings, DeliveryState]
KernelDep = Annotated[DeliveryKernel, Depends(kernel_dependency)]


async def get_settings(kernel: KernelDep) -> DeliverySettings:
    """The running service's settings."""
    return kernel.settings


SettingsDep = Annotated[DeliverySettings, Depends(get_settings)]


def kernel_of(session: AsyncSession) -> DeliveryKernel:
    """Delivery's kernel, for code that holds only a session (handlers, service functions)."""
    return owkernel_kernel.kernel_of(session)
