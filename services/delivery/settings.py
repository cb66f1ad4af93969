"""Delivery's settings (env prefix ``DELIVERY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class DeliverySettings(ServiceSettings):
    """Everything delivery reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    service_name: str = "delivery"
    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///./.data/delivery.db"

    # Where couriers post their status webhooks: the gateway, which proxies /api/v1/webhooks to
    # this service.
    webhook_base_url: str = "http://127.0.0.1:8000"
    # The platform-wide ONEWINDOW_COURIER_SECRETS applies unless this overrides it (tests).
    courier_secrets: str | None = None
    # Each partner's API, JSON: {"<carrier>": {"url": "https://...", "api_key": "..."}}
    # (partners/couriers.py). A partner without one takes no waybills: shipments wait as pending.
    # The local run points them at the simulated couriers (simulators/couriers).
    courier_apis: str | None = None
    # Month boundaries of the finance bill are local time.
    billing_timezone: str = "Asia/Shanghai"
    max_webhook_bytes: int = 64 * 1024
    # The webhook audit (webhook_receipts). A verified webhook is kept whole for this long; one
    # refused before it proved its sender (unknown carrier, bad or missing signature, stale
    # timestamp, too large) costs nothing to send, so only its first bytes are kept, for a short
    # while, and only the newest of them. Each replica prunes every webhook_prune_seconds.
    webhook_receipt_retention_days: int = Field(default=90, ge=1)
    refused_webhook_retention_hours: int = Field(default=24, ge=1)
    refused_webhook_max_kept: int = Field(default=10_000, ge=0)
    refused_webhook_sample_bytes: int = Field(default=1024, ge=0)
    webhook_prune_seconds: float = Field(default=300.0, gt=0)
    # Inbound couriers are free to the applicant and billed to finance: at most this many open
    # (not yet delivered, failed or cancelled) per application.
    max_open_inbound_per_application: int = Field(default=2, ge=1)


@lru_cache
def get_settings() -> DeliverySettings:
    """The process's settings, read once."""
    return DeliverySettings()
