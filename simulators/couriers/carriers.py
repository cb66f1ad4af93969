"""The simulated carriers' state: their API keys, their book of parcels and the dispatcher that
plays the journeys, and the check every call of their API goes through.

One ``Carriers`` per app (``app.state.carriers``); the endpoints reach it through ``CarriersDep``.
The book and the dispatcher are opened by the app's lifespan.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from simulators.couriers.journey import Dispatcher
from simulators.couriers.settings import CouriersSimSettings
from simulators.couriers.store import Store


def problem(status: int, detail: str, code: str) -> JSONResponse:
    """A problem+json answer, as a real carrier's API gives one."""
    return JSONResponse(
        {"type": "about:blank", "title": detail, "status": status, "detail": detail, "code": code},
        status_code=status,
        media_type="application/problem+json",
    )


@dataclass
class Carriers:
    """The carriers this simulator stands for: those with both an API key and a webhook secret."""

    settings: CouriersSimSettings
    keys: dict[str, bytes] = field(init=False)
    names: set[str] = field(init=False)
    # Set by the lifespan while the app serves.
    store: Store | None = None
    dispatcher: Dispatcher | None = None

    def __post_init__(self) -> None:
        self.keys = {carrier: key.get_secret_value().encode() for carrier, key in self.settings.api_keys.items()}
        self.names = set(self.keys) & set(self.settings.webhook_secrets)

    def refused(self, carrier: str, authorization: str | None) -> JSONResponse | None:
        """A problem unless the caller holds this carrier's API key."""
        if carrier not in self.names:
            return problem(404, f"No carrier {carrier!r} here.", "unknown_carrier")
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), self.keys[carrier]):
            return problem(401, "A valid API key of this carrier is required.", "bad_api_key")
        return None

    @property
    def book(self) -> Store:
        """The parcels booked (open while the app serves)."""
        assert self.store is not None, "the simulated couriers' book opens with the app's lifespan"
        return self.store

    @property
    def journeys(self) -> Dispatcher:
        """The dispatcher of the parcels' reports (running while the app serves)."""
        assert self.dispatcher is not None, "the simulated couriers' dispatcher starts with the app's lifespan"
        return self.dispatcher


async def get_carriers(request: Request) -> Carriers:
    """The app's carriers."""
    # async, though it never waits: FastAPI runs a plain ``def`` dependency on a worker thread,
    # a hand-off and back on every call of the API.
    carriers: Carriers = request.app.state.carriers
    return carriers


CarriersDep = Annotated[Carriers, Depends(get_carriers)]
