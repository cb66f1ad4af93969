"""The gateway's own running parts, kept on ``app.state.gateway`` beside the kernel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gateway.identity.passwords import Passwords
from gateway.identity.throttle import AddressThrottle
from gateway.settings import GatewaySettings
from gateway.tokens.keys import KeyStore
from gateway.tokens.verifier import GatewayVerifier, RevocationList
from owkernel.settings import PlatformSettings


@dataclass
class GatewayState:
    """Keys, revocations, the verifier, password hashing and login throttling of one process."""

    settings: GatewaySettings
    platform: PlatformSettings
    keys: KeyStore
    revocations: RevocationList
    verifier: GatewayVerifier
    passwords: Passwords
    login_throttle: AddressThrottle

    @property
    def rate_limit(self) -> float:
        """Requests per second per identity at the door (0: off)."""
        if self.settings.rate_limit_per_second is not None:
            return self.settings.rate_limit_per_second
        return self.platform.rate_limit_per_second


async def get_state(request: Request) -> GatewayState:
    """The gateway state of the app serving ``request``."""
    state: GatewayState = request.app.state.gateway
    return state


StateDep = Annotated[GatewayState, Depends(get_state)]
