"""Admin API of identity: staff accounts and the rotation of the token signing key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.identity import repository, staff
from gateway.identity.schemas import KeyRotationOut, StaffIn, StaffOut
from gateway.state import StateDep
from owkernel.app import KernelDep, SessionDep
from owkernel.halls import CITY_HALL
from owkernel.pagination import CursorParam, LimitParam, Page, decode_text_cursor, page_of
from owkernel.roles import Admin

router = APIRouter()  # tagged "identity" by endpoints.router, which carries it


def _staff_out(account: Any) -> StaffOut:
    return StaffOut(
        subject_id=account.id,
        username=account.login,
        name=account.name,
        roles=list(account.roles or []),
        department=account.department,
        hall=account.hall or CITY_HALL,
        created_at=account.created_at,
    )


@router.post("/api/v1/admin/staff", status_code=201, response_model=StaffOut, tags=["admin"])
async def create_staff(body: StaffIn, session: SessionDep, state: StateDep, _: Admin) -> StaffOut:
    """Create a staff account (an existing username is 409)."""
    account = await staff.create_staff(
        session,
        username=body.username,
        password=body.password,
        name=body.name,
        roles=list(body.roles),
        department=body.department,
        hall=body.hall,
        passwords=state.passwords,
    )
    return _staff_out(account)


@router.get("/api/v1/admin/staff", response_model=Page[StaffOut], tags=["admin"])
async def list_staff(
    session: SessionDep, _: Admin, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[StaffOut]:
    """Staff accounts by username."""
    rows = await repository.staff_page(session, after=decode_text_cursor(cursor), limit=limit + 1)
    return page_of(rows, limit, key=lambda a: [a.login], item=_staff_out)


@router.post("/api/v1/admin/keys/rotate", response_model=KeyRotationOut, tags=["admin"])
async def rotate_keys(kernel: KernelDep, state: StateDep, _: Admin) -> KeyRotationOut:
    """Sign new tokens with a new key; the old key stays published, so nobody is logged out."""
    # Its own transaction, committed before the key store reloads what it wrote.
    async with kernel.db.transaction() as session:
        kid, previous = await state.keys.rotate(session)
    await state.keys.reload()
    return KeyRotationOut(kid=kid, previous_kid=previous)
