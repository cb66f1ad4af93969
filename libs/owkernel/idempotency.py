"""Idempotent creates: the same ``Idempotency-Key`` and body give the first result again.

The stored response is written in the same transaction as what it created, so a key is never
remembered for something that rolled back. The same key with another body is a 422; the same
key racing itself hits the primary key and the loser gets a 409.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.errors import Unprocessable
from owkernel.tables import KernelTables

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def request_hash(*parts: bytes | str) -> str:
    """A stable fingerprint of the request (method, path, body...)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


class Idempotency:
    """Look up and remember responses by (owner, key)."""

    def __init__(self, tables: KernelTables) -> None:
        self.table = tables.idempotency

    async def replay(
        self, session: AsyncSession, *, owner: str, key: str | None, fingerprint: str
    ) -> JSONResponse | None:
        """The first response for this key, or None when the key is new (or absent)."""
        if not key:
            return None
        row = (
            await session.execute(
                select(self.table.c.request_hash, self.table.c.status_code, self.table.c.response).where(
                    self.table.c.owner == owner, self.table.c.key == key
                )
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise Unprocessable("This Idempotency-Key was used with a different request.")
        return JSONResponse(row.response, status_code=row.status_code, headers={"Idempotent-Replayed": "true"})

    async def remember(
        self, session: AsyncSession, *, owner: str, key: str | None, fingerprint: str, status_code: int, body: Any
    ) -> None:
        """Store the response for this key in the current transaction."""
        if not key:
            return
        await session.execute(
            insert(self.table).values(
                owner=owner,
                key=key,
                request_hash=fingerprint,
                status_code=status_code,
                response=jsonable_encoder(body),
                created_at=datetime.now(UTC),
            )
        )
