"""Gateway's settings (env prefix ``GATEWAY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """Everything gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///./.data/gateway.db"


@lru_cache
def get_settings() -> GatewaySettings:
    """The process's settings, read once."""
    return GatewaySettings()
