"""The simulated provincial identity provider: OpenID Connect code flow with PKCE, over HTTP.

It stands for the province's unified identity login in the local run and the tests: a browser
types an identity number and a name into its login page and comes back to the relying party with
a code, which the relying party trades (authenticated, with its PKCE verifier) for an RS256 ID
token naming that identity. Everything is checked as a real provider would check it, so the
gateway's relying party is tested against the protocol, not against a stub. It holds its state in
memory, bounded, and refuses to run unless allowed and reachable on loopback only.

The endpoints live beside this factory: ``metadata`` (health, discovery, keys), ``authorize``
(the request and the login form), ``token`` and ``userinfo``; ``provider`` holds the state.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI

from simulators.province import authorize, metadata, token, userinfo
from simulators.province.provider import Provider
from simulators.province.settings import ProvinceSimSettings, is_loopback


class SimulatorNotAllowedError(RuntimeError):
    """The simulator was asked to start where it must not run."""


def _refuse_unsafe(settings: ProvinceSimSettings) -> None:
    if not settings.allowed:
        raise SimulatorNotAllowedError(
            "the simulated provincial identity provider logs in anyone who types a valid number: "
            "it starts only when PROVINCE_SIM_ALLOWED=true (local runs and tests, never production)"
        )
    host = urlsplit(settings.issuer).hostname
    if not is_loopback(host):
        raise SimulatorNotAllowedError(
            f"the simulated provincial identity provider refuses issuer {settings.issuer!r}: its host must be "
            "loopback (127.0.0.0/8, ::1 or localhost), so nothing outside this machine can trust it"
        )
    if not is_loopback(settings.host):
        raise SimulatorNotAllowedError(
            f"the simulated provincial identity provider refuses to listen on {settings.host!r}: loopback only"
        )


def create_app(settings: ProvinceSimSettings | None = None) -> FastAPI:
    """The provider's app; raises SimulatorNotAllowedError unless allowed and on loopback."""
    settings = settings or ProvinceSimSettings()
    _refuse_unsafe(settings)
    provider = Provider(settings)
    app = FastAPI(title="Simulated provincial identity provider", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.provider = provider
    app.state.stores = provider.stores()
    for module in (metadata, authorize, token, userinfo):
        app.include_router(module.router)
    return app
