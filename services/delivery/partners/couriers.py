"""Courier companies over their HTTP API: what a real partner's integration looks like.

A partner whose API is configured (``courier_apis``: carrier -> base URL and API key) is booked
with ``POST {url}/v1/waybills`` and cancelled with ``POST {url}/v1/waybills/{no}/cancel``,
authenticated with its API key. Its status reports come back as signed webhooks (webhooks/).

Booking happens inside the shipment's transaction, not after it through the outbox: the
waybill's tracking number and fee are then committed with the shipment and announced by the
same ShipmentCreated, with no "booking" state, no second transaction and no job to chase it.
What that costs is a transaction that may roll back after the partner booked; so the booking
carries an idempotency key the redo repeats, and the partner answers the redo with the same
waybill instead of a second parcel. The key is the shipment's own identity, its application,
direction and attempt (the table's unique key): its row id is random and would be lost with the
rolled-back transaction, while a redo opens the same (application, direction, attempt) again.
A partner that does not answer fails the transaction: a consumer retries the event later, a
clerk's request gets a 503 problem to try again. A partner with no API configured here counts as
unavailable (``unconfigured``): its shipments wait as pending, as for one an admin switched off.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.errors import ServiceUnavailable
from owkernel.kernel import kernel_of
from services.delivery.partners.adapter import CourierAdapter, Waybill, WaybillRequest
from services.delivery.partners.catalog import PARTNERS


class PartnerUnavailable(ServiceUnavailable):
    """The partner's API did not take the call (down, or answering an error)."""


class CourierApisError(ValueError):
    """The courier API setting is not a JSON object of carrier -> {"url", "api_key"}."""


@dataclass(frozen=True)
class CourierApi:
    """Where one partner's API answers and the key it gave us."""

    url: str
    api_key: str


def parse_courier_apis(raw: str | None) -> dict[str, CourierApi]:
    """Read ``{"<carrier>": {"url": "https://...", "api_key": "..."}}`` (empty: none configured)."""
    if raw is None or not raw.strip():
        return {}
    try:
        data = jsonlib.loads(raw)
    except jsonlib.JSONDecodeError as exc:
        raise CourierApisError(f"the courier APIs are not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CourierApisError("the courier APIs must be a JSON object: carrier -> {url, api_key}")
    out: dict[str, CourierApi] = {}
    for carrier, value in data.items():
        fields = value if isinstance(value, dict) else {}
        if not (isinstance(fields.get("url"), str) and isinstance(fields.get("api_key"), str)):
            raise CourierApisError(f"the API of {carrier!r} needs a string url and api_key")
        out[str(carrier)] = CourierApi(url=fields["url"].rstrip("/"), api_key=fields["api_key"])
    return out


def idempotency_key(request: WaybillRequest) -> str:
    """The booking's key at the partner: the same for a redo of a rolled-back transaction."""
    return f"{request.application_no}:{request.direction}:{request.attempt}"


class HttpCourier:
    """A partner booked over its HTTP API; the session is not used (the partner keeps its state)."""

    def __init__(self, carrier: str, api: CourierApi, http: httpx.AsyncClient) -> None:
        self.carrier = carrier
        self.api = api
        self.http = http

    async def _post(self, path: str, *, json: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"authorization": f"Bearer {self.api.api_key}"} | (headers or {})
        try:
            return await self.http.post(f"{self.api.url}{path}", json=json, headers=sent)
        except httpx.HTTPError as exc:
            raise PartnerUnavailable(
                f"Courier {self.carrier} did not answer; try again later.", code="partner_unavailable"
            ) from exc

    def _failed(self, response: httpx.Response) -> PartnerUnavailable:
        return PartnerUnavailable(
            f"Courier {self.carrier} refused the call (HTTP {response.status_code}); try again later.",
            code="partner_unavailable",
        )

    async def create_waybill(self, session: AsyncSession, request: WaybillRequest) -> Waybill:
        """Book the parcel at the partner (a replayed key returns the first waybill)."""
        body = {
            "shipment_id": request.shipment_id,
            "direction": request.direction,
            "attempt": request.attempt,
            "region_code": request.region_code,
            "address_detail": request.address_detail,
            "contact_name": request.contact_name,
            "contact_phone": request.contact_phone,
        }
        response = await self._post("/v1/waybills", json=body, headers={"idempotency-key": idempotency_key(request)})
        if response.status_code not in (200, 201):
            raise self._failed(response)
        return Waybill(tracking_no=str(response.json()["tracking_no"]))

    async def cancel(self, session: AsyncSession, tracking_no: str) -> bool:
        """Cancel at the partner; False when the parcel was already picked up (409)."""
        response = await self._post(f"/v1/waybills/{tracking_no}/cancel")
        if response.status_code == 409:
            return False
        if response.status_code != 200:
            raise self._failed(response)
        return True


def _apis(session: AsyncSession) -> dict[str, CourierApi]:
    """The partner APIs configured for the service whose database opened ``session``."""
    apis: dict[str, CourierApi] = kernel_of(session).state.couriers
    return apis


def unconfigured(session: AsyncSession) -> frozenset[str]:
    """Partners under contract whose API is not configured here: they take no waybills."""
    return frozenset(p.code for p in PARTNERS) - set(_apis(session))


class _ByConfiguration:
    """A partner's adapter found, per call, from the running service's configuration: the
    methods receive the session, whose kernel holds the APIs and the shared HTTP client."""

    def __init__(self, carrier: str) -> None:
        self.carrier = carrier

    def _courier(self, session: AsyncSession) -> HttpCourier:
        api = _apis(session).get(self.carrier)
        if api is None:
            raise PartnerUnavailable(f"No API is configured for courier {self.carrier}.", code="partner_unavailable")
        return HttpCourier(self.carrier, api, kernel_of(session).http)

    async def create_waybill(self, session: AsyncSession, request: WaybillRequest) -> Waybill:
        """Book the parcel at the partner's API."""
        return await self._courier(session).create_waybill(session, request)

    async def cancel(self, session: AsyncSession, tracking_no: str) -> bool:
        """Cancel at the partner's API; False when it is too late."""
        return await self._courier(session).cancel(session, tracking_no)


def adapter_for(carrier: str) -> CourierAdapter:
    """The adapter of a partner under contract (its HTTP API, as configured)."""
    return _ByConfiguration(carrier)
