"""Content-addressed storage and the content-type sniffing of uploads."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import pytest

from owkernel.auth import Principal
from owtest import eventually, resident_id
from services.intake.applications import materials
from services.intake.applications.jobs import release_files, sweep_storage
from services.intake.storage import LocalFileStorage, sniff_content_type
from services.intake.tests.harness import PDF, PNG, Hall


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


async def test_a_file_stored_already_is_found_and_a_deleted_one_written_again(tmp_path: Path) -> None:
    # put() with the address given answers from the file already there (no worker thread); once
    # the release job deleted it, the same content is written again.
    storage = LocalFileStorage(tmp_path)
    sha256 = hashlib.sha256(PDF).hexdigest()
    first = await storage.put(PDF, sha256=sha256)
    assert await storage.put(PDF, sha256=sha256) == first and await storage.get(sha256) == PDF
    assert await storage.delete(sha256)
    assert await storage.put(PDF, sha256=sha256) == first and await storage.get(sha256) == PDF


# --- files no material refers to are deleted (issue 17, hole 4) ---------------------------------


def stored_files(hall: Hall) -> set[str]:
    """The names of the files in the service's storage (temporary ones included)."""
    root = Path(hall.svc.settings.storage_dir)
    return {p.name for p in root.rglob("*") if p.is_file()}


async def on_disk(hall: Hall, expected: set[str]) -> bool:
    """Whether the storage holds exactly ``expected`` (for ``eventually``)."""
    return await asyncio.to_thread(stored_files, hall) == expected


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def releases_done(hall: Hall, who: dict[str, str]) -> None:
    """The sentinel of the file release: a draft of its own with a file nobody else has, deleted.
    Releases are handled in the order they were recorded, so once that file is gone every
    release recorded before it has been handled (whatever it was to delete is deleted)."""
    no = (await hall.apply(who))["application_no"]
    marker = PNG + uuid.uuid4().bytes
    assert (await hall.upload(who, no, "M3", marker)).status_code == 201
    assert (await hall.client.delete(f"/api/v1/applications/{no}", headers=who)).status_code == 204

    async def marker_gone() -> bool:
        return sha(marker) not in await asyncio.to_thread(stored_files, hall)

    await eventually(marker_gone, timeout=5)


async def test_replacing_a_material_leaves_exactly_one_file(limited_hall: Hall) -> None:
    hall = limited_hall
    await hall.add_item()
    me = hall.citizen(resident_id())
    no = (await hall.apply(me))["application_no"]
    assert (await hall.upload(me, no, "M1", PDF)).status_code == 201
    assert (await hall.upload(me, no, "M1", PNG)).status_code == 201
    await eventually(lambda: on_disk(hall, {sha(PNG)}), timeout=5)
    got = await hall.client.get(f"/api/v1/applications/{no}/materials/M1", headers=me)
    assert got.status_code == 200 and got.content == PNG
    # The same file again is no replacement: it stays.
    assert (await hall.upload(me, no, "M1", PNG)).status_code == 201
    await releases_done(hall, me)
    assert await on_disk(hall, {sha(PNG)})


async def test_a_file_another_material_still_uses_is_kept(limited_hall: Hall) -> None:
    hall = limited_hall
    await hall.add_item()
    mine, theirs = hall.citizen(resident_id()), hall.citizen(resident_id())
    a = (await hall.apply(mine))["application_no"]
    b = (await hall.apply(theirs))["application_no"]
    assert (await hall.upload(mine, a, "M1", PDF)).status_code == 201
    assert (await hall.upload(theirs, b, "M1", PDF)).status_code == 201, "stored once, used twice"
    assert (await hall.upload(mine, a, "M2", PDF)).status_code == 201, "and a third time"
    assert (await hall.upload(mine, a, "M1", PNG)).status_code == 201
    unique = PNG + b"only here"
    assert (await hall.upload(mine, a, "M3", unique)).status_code == 201
    assert (await hall.upload(mine, a, "M3", PNG)).status_code == 201
    # Releases go in order: once the unique file is gone, the shared one was looked at and kept.
    await eventually(lambda: on_disk(hall, {sha(PDF), sha(PNG)}), timeout=5)
    got = await hall.client.get(f"/api/v1/applications/{b}/materials/M1", headers=theirs)
    assert got.status_code == 200 and got.content == PDF


async def test_deleting_a_draft_deletes_its_files(limited_hall: Hall) -> None:
    hall = limited_hall
    await hall.add_item()
    me = hall.citizen(resident_id())
    no = (await hall.apply(me))["application_no"]
    kept = (await hall.apply(me))["application_no"]
    assert (await hall.upload(me, no, "M1", PDF)).status_code == 201
    assert (await hall.upload(me, no, "M2", PNG)).status_code == 201
    assert (await hall.upload(me, kept, "M1", PNG)).status_code == 201
    other = hall.citizen(resident_id())
    r = await hall.client.delete(f"/api/v1/applications/{no}", headers=other)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = await hall.client.delete(f"/api/v1/applications/{no}", headers=me)
    assert r.status_code == 204, r.text
    await eventually(lambda: on_disk(hall, {sha(PNG)}), timeout=5)
    assert (await hall.client.get(f"/api/v1/applications/{no}", headers=me)).status_code == 404
    assert (await hall.client.delete(f"/api/v1/applications/{no}", headers=me)).status_code == 404
    # Only a draft goes: a submitted application is the hall's business.
    submitted = await hall.submitted(me)
    r = await hall.client.delete(f"/api/v1/applications/{submitted}", headers=me)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"


async def test_a_rolled_back_replacement_deletes_nothing_and_leaks_nothing(limited_hall: Hall) -> None:
    hall = limited_hall
    await hall.add_item()
    idn = resident_id()
    me = hall.citizen(idn)
    no = (await hall.apply(me))["application_no"]
    assert (await hall.upload(me, no, "M1", PDF)).status_code == 201
    kernel = hall.svc.kernel
    storage = LocalFileStorage(Path(hall.svc.settings.storage_dir))
    person = Principal(subject_id=f"u-{idn}", kind="person", id_number=idn)
    with pytest.raises(RuntimeError):
        async with kernel.db.transaction() as session:
            await materials.upload_material(
                session,
                settings=hall.svc.settings,
                storage=storage,
                principal=person,
                no=no,
                code="M1",
                data=PNG,
                filename="M1.png",
            )
            assert await on_disk(hall, {sha(PDF), sha(PNG)}), "the new file is written before the commit"
            raise RuntimeError("the transaction fails after the replacement")
    await release_files(kernel.db, storage)
    await releases_done(hall, me)
    assert sha(PDF) in await asyncio.to_thread(stored_files, hall), "still referenced: never deleted"
    got = await hall.client.get(f"/api/v1/applications/{no}/materials/M1", headers=me)
    assert got.status_code == 200 and got.content == PDF
    # The file the failed transaction wrote is referenced by nothing: the sweep removes it.
    assert await sweep_storage(kernel.db, storage, grace_seconds=0) == 1
    assert await on_disk(hall, {sha(PDF)})
    assert await sweep_storage(kernel.db, storage, grace_seconds=0) == 0
