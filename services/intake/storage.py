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


class FileStorage(Protocol):
    """Content-addressed file storage."""

    async def put(self, data: bytes) -> StoredFile:
        """Store ``data`` (idempotent: the same bytes give the same address)."""
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

    def _put(self, data: bytes) -> StoredFile:
        sha256 = hashlib.sha256(data).hexdigest()
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

    async def put(self, data: bytes) -> StoredFile:
        """Store ``data`` in a worker thread (disk I/O stays off the event loop)."""
        return await asyncio.to_thread(self._put, data)

    async def get(self, sha256: str) -> bytes:
        """Read a stored file in a worker thread."""
        return await asyncio.to_thread(self._path(sha256).read_bytes)

    async def exists(self, sha256: str) -> bool:
        """Whether the file is there."""
        return await asyncio.to_thread(self._path(sha256).exists)
