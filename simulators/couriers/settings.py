"""Settings of the simulated courier companies (env prefix ``COURIERS_SIM_``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The public development secrets delivery falls back to when ONEWINDOW_COURIER_SECRETS is unset
# (services/delivery/partners/secrets.py): the same values, so an unconfigured run still verifies.
DEVELOPMENT_WEBHOOK_SECRETS: dict[str, str] = {
    "sim-express": "whsec_b25ld2luZG93LWRldmVsb3BtZW50LXNpbS1leHByZXM=",
    "sim-post": "whsec_b25ld2luZG93LWRldmVsb3BtZW50LXNpbS1wb3N0Li4=",
}
# Public development API keys (the ones delivery is given by the stack when none are set).
DEVELOPMENT_API_KEYS: dict[str, str] = {
    "sim-express": "sim-express-development-api-key",
    "sim-post": "sim-post-development-api-key",
}


class CouriersSimSettings(BaseSettings):
    """Which carriers it plays, how they authenticate callers, where and how fast they report."""

    model_config = SettingsConfigDict(env_prefix="COURIERS_SIM_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8011
    # Off unless said otherwise: it signs webhooks as if it were the partners.
    allowed: bool = False
    # carrier -> the API key its customers send as ``Authorization: Bearer <key>``.
    api_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {k: SecretStr(v) for k, v in DEVELOPMENT_API_KEYS.items()}
    )
    # carrier -> its Standard Webhooks secret(s), space-separated while one rotates: the first
    # signs. The platform's ONEWINDOW_COURIER_SECRETS is the same setting seen from the receiver.
    webhook_secrets: dict[str, str] = Field(
        default_factory=lambda: dict(DEVELOPMENT_WEBHOOK_SECRETS),
        validation_alias=AliasChoices("COURIERS_SIM_WEBHOOK_SECRETS", "ONEWINDOW_COURIER_SECRETS"),
    )
    # Where the status webhooks go: delivery's public URL, i.e. the gateway, which routes
    # /api/v1/webhooks to delivery.
    webhook_base_url: str = "http://127.0.0.1:8000"
    # Seconds between two reports of a parcel (0 for benchmarks): the platform's pace setting,
    # with its default (owkernel PlatformSettings.courier_delay_seconds).
    delay_seconds: float = Field(
        default=3.0,
        ge=0,
        validation_alias=AliasChoices("COURIERS_SIM_DELAY_SECONDS", "ONEWINDOW_COURIER_DELAY_SECONDS"),
    )
    # False: a sandbox that books and cancels but reports nothing (a customer's tests that post
    # their own reports).
    report: bool = True
    # Seconds from booking to the first report (the courier comes to pick the parcel up). A
    # customer books inside its own transaction, so a report sent at once can reach it before
    # that commits and be refused as an unknown waybill (then retried): a moment avoids that.
    pickup_seconds: float = Field(default=0.2, ge=0)
    # The parcels booked and still to report; ":memory:" forgets them on a restart.
    database_path: str = "./.data/couriers.db"
    # A report the webhook refused or never answered is tried again, backing off, this many times.
    max_attempts: int = Field(default=20, ge=1)
    max_backoff_seconds: float = Field(default=30.0, gt=0)
    poll_seconds: float = Field(default=0.5, gt=0)
    # Reports sent at once; the rest wait for the next round.
    batch: int = Field(default=100, ge=1)

    @field_validator("webhook_secrets")
    @classmethod
    def _secrets_present(cls, secrets: dict[str, str]) -> dict[str, str]:
        for carrier, value in secrets.items():
            if not value.split():
                raise ValueError(f"the webhook secret of {carrier!r} is empty")
        return secrets

    def signing_secret(self, carrier: str) -> str:
        """The secret a carrier signs its webhooks with (the first while two rotate)."""
        return self.webhook_secrets[carrier].split()[0]
