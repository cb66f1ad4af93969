"""Dependencies shared by approval's routes: the typed kernel, its runtime, idempotency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from owkernel.auth import Principal
from owkernel.idempotency import Idempotency
from owkernel.kernel import kernel_dependency
from owkernel.roles import SUPERVISING
from services.approval.db import tables
from services.approval.runtime import ApprovalKernel, Runtime
from services.approval.settings import ApprovalSettings

KernelDep = Annotated[ApprovalKernel, Depends(kernel_dependency)]


async def get_runtime(kernel: KernelDep) -> Runtime:
    """The kernel's state: settings, clock, the hall's zone, the card rule."""
    return kernel.state


async def get_settings(kernel: KernelDep) -> ApprovalSettings:
    """The running service's settings."""
    return kernel.settings


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[ApprovalSettings, Depends(get_settings)]
idempotency = Idempotency(tables)


def sees_all(principal: Principal) -> bool:
    """Supervisors and administrators see every department."""
    return principal.has_role(*SUPERVISING)
