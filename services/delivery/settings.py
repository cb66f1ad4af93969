"""Delivery's settings (env prefix ``DELIVERY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class DeliverySettings(ServiceSettings):
    """Everything delivery reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    service_name: str = "delivery"
    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///./.data/delivery.db"


@lru_cache
def get_settings() -> DeliverySettings:
    """The process's settings, read once."""
    return DeliverySettings()
