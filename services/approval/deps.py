"""Dependencies shared by approval's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from owkernel.auth import Principal, require_roles
from owkernel.idempotency import Idempotency
from services.approval.db import tables
from services.approval.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """The app's runtime (settings, clock, rules)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Supervisor = Annotated[Principal, Depends(require_roles("supervisor", "admin"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Staff = Annotated[Principal, Depends(require_roles("approver", "supervisor", "admin", "clerk"))]
idempotency = Idempotency(tables)


def sees_all(principal: Principal) -> bool:
    """Supervisors and administrators see every department."""
    return principal.has_role("supervisor", "admin")
