"""Argon2id password hashing (argon2-cffi), off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.settings import GatewaySettings


class Passwords:
    """Hash and check passwords; hashing takes tens of milliseconds, so it runs in a thread."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Checked against when the account does not exist, so both cases take the same time.
        self._dummy = self.hasher.hash("not-a-real-password")

    async def hash(self, password: str) -> str:
        """A new Argon2id hash."""
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches (always does the work, even without an account)."""

        def check() -> bool:
            try:
                return bool(self.hasher.verify(password_hash or self._dummy, password)) and password_hash is not None
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        return self.hasher.check_needs_rehash(password_hash)
