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

    # Where couriers (here: the simulated ones) post their status webhooks: the gateway, which
    # proxies /api/v1/webhooks to this service.
    webhook_base_url: str = "http://127.0.0.1:8000"
    # The platform-wide ONEWINDOW_COURIER_* values apply unless these override them (tests).
    courier_delay_seconds: float | None = None
    courier_secrets: str | None = None
    # Run the simulated couriers inside this process (the local run and the stack tests).
    simulator_enabled: bool = True
    simulator_poll_seconds: float = 0.5
    # Month boundaries of the finance bill are local time.
    billing_timezone: str = "Asia/Shanghai"
    max_webhook_bytes: int = 64 * 1024


@lru_cache
def get_settings() -> DeliverySettings:
    """The process's settings, read once."""
    return DeliverySettings()
