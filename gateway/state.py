"""The gateway's own running parts: the ``state`` of its kernel (``Kernel[GatewaySettings, GatewayState]``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity.passwords import Passwords
from gateway.identity.throttle import AddressThrottle
from gateway.province.client import ProvinceClient
from gateway.settings import GatewaySettings
from gateway.tokens.keys import KeyStore
from gateway.tokens.verifier import GatewayVerifier, RevocationList
from owkernel import kernel as owkernel_kernel
from owkernel.auth import TokenVerifier
from owkernel.kernel import Kernel, kernel_dependency
from owkernel.settings import PlatformSettings


@dataclass
class GatewayState:
    """Keys, revocations, the verifier, password hashing, login throttling and the province client."""

    settings: GatewaySettings
    platform: PlatformSettings
    keys: KeyStore
    revocations: RevocationList
    verifier: GatewayVerifier
    passwords: Passwords
    login_throttle: AddressThrottle
    province: ProvinceClient

    @classmethod
    def build(
        cls, settings: GatewaySettings, platform: PlatformSettings, fallback: TokenVerifier | None
    ) -> GatewayState:
        """The parts for ``settings``; ``fallback`` verifies tokens whose key the store does not know."""
        keys = KeyStore(settings)
        revocations = RevocationList()
        verifier = GatewayVerifier(
            keys=keys,
            revocations=revocations,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache_seconds=settings.token_cache_seconds,
            fallback=fallback,
        )
        throttle = AddressThrottle(
            max_failures=settings.login_address_max_failures, window_seconds=settings.login_address_window_seconds
        )
        return cls(
            settings=settings,
            platform=platform,
            keys=keys,
            revocations=revocations,
            verifier=verifier,
            passwords=Passwords(settings),
            login_throttle=throttle,
            province=ProvinceClient(issuer=platform.province_issuer, settings=settings),
        )

    @property
    def rate_limit(self) -> float:
        """Requests per second per identity at the door (0: off)."""
        if self.settings.rate_limit_per_second is not None:
            return self.settings.rate_limit_per_second
        return self.platform.rate_limit_per_second


GatewayKernel = Kernel[GatewaySettings, GatewayState]
KernelDep = Annotated[GatewayKernel, Depends(kernel_dependency)]


async def get_state(kernel: KernelDep) -> GatewayState:
    """The gateway state of the app serving the request."""
    return kernel.state


async def get_settings(kernel: KernelDep) -> GatewaySettings:
    """The running gateway's settings."""
    return kernel.settings


StateDep = Annotated[GatewayState, Depends(get_state)]
SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]


def kernel_of(session: AsyncSession) -> GatewayKernel:
    """The gateway's kernel, for code that holds only a session."""
    return owkernel_kernel.kernel_of(session)
