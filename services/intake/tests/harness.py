"""What intake's tests share: the running service and its people, its test settings, valid
identity numbers, the events it published. (The fixtures that start it are in conftest.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from owkernel.contracts import Envelope, EventData
from owtest import ServiceHarness, service_settings, stream_events
from services.intake.settings import IntakeSettings

HERE = Path(__file__).resolve().parent
INI = HERE.parent / "alembic.ini"
DEMO_CATALOG = HERE.parent.parent.parent / "demo" / "catalog.yaml"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def intake_settings(database_url: str, nats_url: str, namespace: str, tmp_path: Path, **overrides: Any) -> Any:
    """Test settings: small uploads, a quick overdue scan, files under the test's directory."""
    values: dict[str, Any] = {
        "storage_dir": str(tmp_path / "files"),
        "max_upload_bytes": 64 * 1024,
        "overdue_scan_seconds": 3600.0,
    }
    values.update(overrides)
    return service_settings(IntakeSettings, database_url=database_url, nats_url=nats_url, namespace=namespace, **values)


SIMPLE_ITEM: dict[str, Any] = {
    "code": "T-001",
    "name": "测试许可事项",
    "kind": "licensing",
    "department": "MARKET",
    "window": "commercial",
    "legal_days": 20,
    "committed_days": 5,
    "trips": 1,
    "online": True,
    "fee_fen": 0,
    "materials": [
        {"code": "M1", "name": "申请表", "critical": True},
        {"code": "M2", "name": "补充说明", "critical": False},
        {"code": "M3", "name": "场地照片", "critical": False},
    ],
}

MAIL = {
    "method": "mail",
    "address": {
        "region_code": "370602001001",
        "detail": "芝罘区南大街1号",
        "recipient": "张三",
        "phone": "13800000000",
    },
}


@dataclass
class Hall(ServiceHarness):
    """The running intake service and the people using it."""

    namespace: str

    @property
    def admin(self) -> dict[str, str]:
        """The administrator's header."""
        return self.headers.admin()

    @property
    def clerk(self) -> dict[str, str]:
        """A window clerk's header."""
        return self.headers.clerk()

    def approver(self, department: str) -> dict[str, str]:
        """A department approver's header."""
        return self.headers.approver(department)

    def citizen(self, id_number: str, name: str = "张三") -> dict[str, str]:
        """A citizen's header."""
        return self.headers.citizen(id_number, name)

    def enterprise(self, code: str, name: str = "烟台示范科技有限公司") -> dict[str, str]:
        """An enterprise's header."""
        return self.headers.enterprise(code, name)

    async def add_item(self, **overrides: Any) -> dict[str, Any]:
        """Create a catalog item (the simple one, changed by ``overrides``)."""
        r = await self.client.post("/api/v1/catalog/items", json=SIMPLE_ITEM | overrides, headers=self.admin)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def import_demo(self) -> dict[str, Any]:
        """Load the demo catalog through the bulk import."""
        r = await self.client.post(
            "/api/v1/catalog/import",
            headers=self.admin,
            files={"file": ("catalog.yaml", DEMO_CATALOG.read_bytes(), "application/yaml")},
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def apply(self, who: dict[str, str], item_code: str = "T-001", **body: Any) -> dict[str, Any]:
        """Create an application."""
        r = await self.client.post("/api/v1/applications", json={"item_code": item_code} | body, headers=who)
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    async def upload(self, who: dict[str, str], no: str, code: str, data: bytes = PDF) -> httpx.Response:
        """Upload a material."""
        return await self.client.put(
            f"/api/v1/applications/{no}/materials/{code}", files={"file": (f"{code}.pdf", data)}, headers=who
        )

    async def submitted(self, who: dict[str, str], item_code: str = "T-001", **body: Any) -> str:
        """An application with its critical materials, submitted; returns its number."""
        app = await self.apply(who, item_code, **body)
        no: str = app["application_no"]
        for m in app["item"]["materials"]:
            if m["critical"]:
                assert (await self.upload(who, no, m["code"])).status_code == 201
        r = await self.client.post(f"/api/v1/applications/{no}/submit", headers=who)
        assert r.status_code == 200, r.text
        return no

    async def accept(self, no: str, deferred: Sequence[str] = ()) -> httpx.Response:
        """The clerk accepts."""
        return await self.client.post(
            f"/api/v1/applications/{no}/acceptance",
            json={"decision": "accept", "deferred_materials": list(deferred), "reason": ""},
            headers=self.clerk,
        )

    async def view(self, no: str, who: dict[str, str] | None = None) -> dict[str, Any]:
        """The application as the clerk (or ``who``) sees it."""
        r = await self.client.get(f"/api/v1/applications/{no}", headers=who or self.clerk)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def published(self, subject: str | None = None) -> list[tuple[Envelope, EventData]]:
        """Every event intake published so far (read back from its JetStream stream)."""
        await self.kernel.relay.drain_once()
        return await stream_events(self.kernel.bus, "intake", subject)
