"""The kernel: the running parts of one service, generic in its settings and its own state.

One way to reach them. A route takes the service's ``KernelDep`` (or ``SettingsDep``), typed
in its ``deps.py``; code that only holds a session (an event handler, a service function, a job's
transaction) calls ``kernel_of(session)``: the kernel rides on every session of its database
(``Session.info``), so a handler reads the same settings, state and clock as a route.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from owkernel.bus import Bus
from owkernel.clock import SYSTEM_CLOCK, Clock
from owkernel.consumer import ConsumerRunner
from owkernel.db import Database
from owkernel.outbox import OutboxRelay
from owkernel.settings import ServiceSettings
from owkernel.tables import KernelTables

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
StateT = TypeVar("StateT")
KERNEL_KEY = "owkernel.kernel"


@dataclass
class Kernel(Generic[SettingsT, StateT]):
    """The running parts of one service, kept on ``app.state.kernel`` and on its sessions.

    ``state`` is what the service itself keeps beside the kernel (a typed object each service
    defines: a signer, a storage, the rules of its clocks), or None.
    """

    settings: SettingsT
    state: StateT
    clock: Clock
    db: Database
    bus: Bus
    tables: KernelTables
    http: httpx.AsyncClient
    relay: OutboxRelay
    consumers: ConsumerRunner | None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def attach(self) -> None:
        """Make this kernel what ``kernel_of`` returns for every session of its database."""
        self.db.sessionmaker.configure(info={KERNEL_KEY: self})


AnyKernel = Kernel[Any, Any]


def kernel_of(session: AsyncSession | Session) -> AnyKernel:
    """The kernel whose database opened ``session`` (each service wraps this in a typed one-liner)."""
    kernel = session.info.get(KERNEL_KEY)
    if not isinstance(kernel, Kernel):
        raise RuntimeError("no kernel is attached to this session's database")
    return kernel


def clock_of(session: AsyncSession | Session) -> Clock:
    """The clock of the kernel whose database opened ``session``; the system clock for a session
    no kernel opened (a migration, a script, a test's scratch database)."""
    kernel = session.info.get(KERNEL_KEY)
    return kernel.clock if isinstance(kernel, Kernel) else SYSTEM_CLOCK


def get_kernel(request: Request) -> AnyKernel:
    """The running kernel of the app serving ``request``."""
    kernel: AnyKernel = request.app.state.kernel
    return kernel


async def kernel_dependency(request: Request) -> AnyKernel:
    """The route dependency behind every ``KernelDep``.

    async on purpose: FastAPI runs a plain ``def`` dependency on its thread pool, a thread hop
    per request for a lookup (measured at 4% of a service's CPU under load).
    """
    return get_kernel(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed before the response is sent, rolled back on error."""
    async with get_kernel(request).db.transaction() as session:
        yield session


KernelDep = Annotated[AnyKernel, Depends(kernel_dependency)]
# scope="function": the commit happens before the response leaves, so a failed commit is an
# error response, never a 201 for something that was not saved.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
