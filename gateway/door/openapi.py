"""One OpenAPI document for the front ends: the gateway's own plus every service's, merged.

Each service's ``/openapi.json`` is fetched over HTTP and cached; a service that is down keeps
its last good document (or is listed under ``x-unavailable``) and never breaks the merge. Paths
are taken only under the prefixes the routing table sends to that service. Component schemas
that clash by name but differ are renamed ``<service>__<Name>`` with their references rewritten.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import httpx
import structlog

from owkernel.openapi import add_problems

log = structlog.get_logger("gateway.openapi")

REF_PREFIX = "#/components/schemas/"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX) :]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _door_statuses(operation: dict[str, Any], *, proxied: bool) -> list[int]:
    """What the door answers itself: rate limit, body size; for a proxied operation a bad token
    (any present token is checked) and a service that is down or slow."""
    statuses = [429]
    if "requestBody" in operation:
        statuses.append(413)
    if proxied:
        statuses += [401, 502, 504]
    return statuses


def merge(own: dict[str, Any], services: dict[str, dict[str, Any]], prefixes: dict[str, list[str]]) -> dict[str, Any]:
    """Merge service documents into a copy of the gateway's own."""
    doc = copy.deepcopy(own)
    paths: dict[str, Any] = doc.setdefault("paths", {})
    components: dict[str, Any] = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    tags: list[dict[str, Any]] = doc.setdefault("tags", [])
    operation_ids = {op.get("operationId") for item in paths.values() for op in item.values() if isinstance(op, dict)}
    for item in paths.values():
        for op in item.values():
            if isinstance(op, dict):
                add_problems(op, _door_statuses(op, proxied=False))
    for service, spec in sorted(services.items()):
        their_schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service}__{name}"
            for name, schema in their_schemas.items()
            if name in schemas and schemas[name] != schema
        }
        for name, schema in their_schemas.items():
            schemas[renames.get(name, name)] = _rewrite_refs(schema, renames)
        for kind, entries in spec.get("components", {}).items():
            if kind != "schemas" and isinstance(entries, dict):
                components.setdefault(kind, {}).update(entries)
        wanted = tuple(prefixes.get(service, []))
        for path, item in spec.get("paths", {}).items():
            if not wanted or not any(path == p or path.startswith(p + "/") for p in wanted):
                continue
            item = _rewrite_refs(item, renames)
            for op in item.values():
                if not isinstance(op, dict):
                    continue
                op.setdefault("tags", [service])
                add_problems(op, _door_statuses(op, proxied=True))
                if op.get("operationId") in operation_ids:
                    op["operationId"] = f"{service}__{op['operationId']}"
                operation_ids.add(op.get("operationId"))
            paths[path] = item
        if not any(t.get("name") == service for t in tags):
            tags.append({"name": service, "description": f"Served by the {service} service."})
    return doc


class OpenAPIMerger:
    """Fetches and caches the services' documents; builds the merged one."""

    def __init__(self, *, upstreams: dict[str, str], prefixes: dict[str, list[str]], cache_seconds: float) -> None:
        self.upstreams = upstreams
        self.prefixes = prefixes
        self.cache_seconds = cache_seconds
        self._docs: dict[str, tuple[dict[str, Any], float]] = {}
        self._lock = asyncio.Lock()

    async def _fetch(self, client: httpx.AsyncClient, service: str, base: str) -> None:
        try:
            response = await client.get(f"{base}/openapi.json", timeout=3.0)
            response.raise_for_status()
            body = response.json()
            if isinstance(body, dict) and "paths" in body:
                self._docs[service] = (body, time.monotonic())
        except (httpx.HTTPError, ValueError) as exc:
            log.info("openapi.upstream_unavailable", service=service, error=repr(exc))

    async def document(self, own: dict[str, Any], client: httpx.AsyncClient) -> dict[str, Any]:
        """The merged document (services refetched when their copy is older than the cache time)."""
        async with self._lock:
            now = time.monotonic()
            stale = [
                (svc, base)
                for svc, base in self.upstreams.items()
                if svc in self.prefixes and (svc not in self._docs or now - self._docs[svc][1] > self.cache_seconds)
            ]
            if stale:
                await asyncio.gather(*(self._fetch(client, svc, base) for svc, base in stale))
        docs = {svc: doc for svc, (doc, _) in self._docs.items()}
        merged = merge(own, docs, self.prefixes)
        missing = sorted(svc for svc in self.prefixes if svc not in docs)
        if missing:
            merged["x-unavailable"] = missing
        return merged
