"""Uploaded materials, stored by content hash behind a small interface.

The local run keeps files on disk under ``INTAKE_STORAGE_DIR``; production may put an object
store behind the same three calls. A file's name is its SHA-256, never anything a client sent,
so no upload can choose where it lands, and the same document uploaded twice is stored once.
The type is decided by the content (magic bytes), not by the client's Content-Type.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# What a material may be: scans and photos of paper documents.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sniff_content_type(data: bytes) -> str | None:
    """The accepted type of ``data`` judged by its first bytes, or None."""
    for magic, content_type in MAGIC:
        if data.startswith(magic):
            return content_type
    return None


@dataclass(frozen=True)
class StoredFile:
    """Where a stored file can be found again and what it is."""

    sha256: str
    size: int


def content_address(data: bytes) -> str:
    """The address ``data`` is stored under: its SHA-256 in hex."""
    return hashlib.sha256(data).hexdigest()


class FileStorage(Protocol):
    """Content-addressed file storage.

    Deleting is safe only for an address no material refers to; the callers make it so (the
    release job and the sweep hold the address's lock while they check and delete).
    """

    async def put(self, data: bytes, *, sha256: str | None = None) -> StoredFile:
        """Store ``data`` (idempotent: the same bytes give the same address).

        ``sha256`` is the address when the caller computed it already (``content_address``).
        """
        ...

    async def delete(self, sha256: str) -> bool:
        """Remove what is stored under ``sha256``; False when nothing was."""
        ...

    async def listing(self, prefix: str) -> list[tuple[str, float]]:
        """The addresses starting with ``prefix`` (two hex digits) and when each was written (epoch seconds)."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; FileNotFoundError if none."""
        ...

    async def exists(self, sha256: str) -> bool:
        """Whether something is stored under ``sha256``."""
        ...


class LocalFileStorage:
    """Files on local disk: ``<root>/<first two hex digits>/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a SHA-256 address")
        return self.root / sha256[:2] / sha256

    def _put(self, data: bytes, sha256: str | None) -> StoredFile:
        sha256 = sha256 or content_address(data)
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write aside and rename: a reader never sees half a file, and two writers of the
            # same content both end with the one complete file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredFile(sha256=sha256, size=len(data))

    async def put(self, data: bytes, *, sha256: str | None = None) -> StoredFile:
        """Store ``data`` in a worker thread (disk I/O stays off the event loop), unless it is there already."""
        if sha256 is not None and self._path(sha256).exists():
            # The same document again (a form every applicant of an item uploads): one stat of a
            # local file, a few microseconds, where the hop to a worker thread and back costs
            # ~60 us of CPU (issue 22). Writing, and hashing, stay in the thread.
            return StoredFile(sha256=sha256, size=len(data))
        return await asyncio.to_thread(self._put, data, sha256)

    def _delete(self, sha256: str) -> bool:
        path = self._path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    async def delete(self, sha256: str) -> bool:
        """Unlink a stored file in a worker thread."""
        return await asyncio.to_thread(self._delete, sha256)

    def _listing(self, prefix: str) -> list[tuple[str, float]]:
        if not re.fullmatch(r"[0-9a-f]{2}", prefix):
            raise ValueError("a prefix is two hex digits")
        try:
            entries = list(os.scandir(self.root / prefix))
        except FileNotFoundError:
            return []
        out = []
        for entry in entries:
            # Only finished files: a ``.upload-`` file is a write still under way (or lost to a
            # crash; it is not an address anything can refer to).
            if _SHA256.match(entry.name) and entry.name.startswith(prefix):
                try:
                    out.append((entry.name, entry.stat().st_mtime))
                except FileNotFoundError:
                    continue
        return out

    async def listing(self, prefix: str) -> list[tuple[str, float]]:
        """The stored files under one prefix directory, read in a worker thread."""
        return await asyncio.to_thread(self._listing, prefix)

    async def get(self, sha256: str) -> bytes:
        """Read a stored file in a worker thread."""
        return await asyncio.to_thread(self._path(sha256).read_bytes)

    async def exists(self, sha256: str) -> bool:
        """Whether the file is there."""
        return await asyncio.to_thread(self._path(sha256).exists)
