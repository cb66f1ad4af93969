"""Intake's typed kernel: its state, the route dependencies and ``kernel_of`` for handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel import kernel as owkernel_kernel
from owkernel.kernel import Kernel, kernel_dependency
from services.intake.settings import IntakeSettings
from services.intake.storage import FileStorage

if TYPE_CHECKING:
    from services.intake.applications.creation import ItemVersion


@dataclass(frozen=True)
class IntakeState:
    """What intake keeps beside the kernel: where uploaded files are stored, the halls and item versions it has seen."""

    storage: FileStorage
    # Codes found registered as halls. A hall is never deleted (no endpoint or job removes one), so
    # a code once found stays valid and is not looked up again for every application (issue 22).
    known_halls: set[str] = field(default_factory=set)
    # The last version read of each active item, by code: an application made under a version
    # held here takes it without reading the item's row (the version is read with the drafts'
    # count, so a change made anywhere, by any replica, is seen).
    items: dict[str, ItemVersion] = field(default_factory=dict)


IntakeKernel = Kernel[IntakeSettings, IntakeState]
KernelDep = Annotated[IntakeKernel, Depends(kernel_dependency)]


async def get_settings(kernel: KernelDep) -> IntakeSettings:
    """The running service's settings."""
    return kernel.settings


async def get_storage(kernel: KernelDep) -> FileStorage:
    """The running service's file storage."""
    return kernel.state.storage


SettingsDep = Annotated[IntakeSettings, Depends(get_settings)]
StorageDep = Annotated[FileStorage, Depends(get_storage)]


def kernel_of(session: AsyncSession) -> IntakeKernel:
    """Intake's kernel, for code that holds only a session (handlers, service functions)."""
    return owkernel_kernel.kernel_of(session)
