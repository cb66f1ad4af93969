"""Content-addressed storage and the content-type sniffing of uploads."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from services.intake.storage import LocalFileStorage, sniff_content_type
from services.intake.tests.harness import PDF, PNG


def test_type_is_judged_by_content() -> None:
    assert sniff_content_type(PDF) == "application/pdf"
    assert sniff_content_type(PNG) == "image/png"
    assert sniff_content_type(b"\xff\xd8\xff\xe0JFIF") == "image/jpeg"
    assert sniff_content_type(b"<html>%PDF-") is None
    assert sniff_content_type(b"") is None


async def test_files_are_stored_once_by_their_hash(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    first = await storage.put(PDF)
    again = await storage.put(PDF)
    assert first == again and first.sha256 == hashlib.sha256(PDF).hexdigest() and first.size == len(PDF)
    assert await storage.get(first.sha256) == PDF and await storage.exists(first.sha256)
    files = await asyncio.to_thread(lambda: [p for p in tmp_path.rglob("*") if p.is_file()])
    assert files == [tmp_path / first.sha256[:2] / first.sha256]
    with pytest.raises(ValueError):
        await storage.get("../../etc/passwd")
    assert not await storage.exists("0" * 64)
