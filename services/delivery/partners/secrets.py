"""Per-carrier Standard Webhooks secrets (``ONEWINDOW_COURIER_SECRETS``), rotation-aware."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import structlog
from standardwebhooks.webhooks import Webhook

from owkernel.settings import PlatformSettings
from services.delivery.settings import DeliverySettings

log = structlog.get_logger("delivery.partners")

# Development secrets of the simulated partners, used only when none are configured. They are
# public (they are in this file): a real deployment sets ONEWINDOW_COURIER_SECRETS.
DEVELOPMENT_SECRETS: dict[str, str] = {
    "sim-express": "whsec_b25ld2luZG93LWRldmVsb3BtZW50LXNpbS1leHByZXM=",
    "sim-post": "whsec_b25ld2luZG93LWRldmVsb3BtZW50LXNpbS1wb3N0Li4=",
}


class CourierSecretsError(ValueError):
    """ONEWINDOW_COURIER_SECRETS is not a JSON object of carrier -> secret(s)."""


@dataclass(frozen=True)
class CourierSecrets:
    """Each carrier's valid secrets: the first signs, any of them verifies (rotation)."""

    by_carrier: dict[str, tuple[str, ...]]
    development: bool = False
    # Each secret decoded once, not on every webhook: a verifier holds nothing but its key.
    _verifiers: dict[str, tuple[Webhook, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        verifiers = {carrier: tuple(Webhook(s) for s in secrets) for carrier, secrets in self.by_carrier.items()}
        object.__setattr__(self, "_verifiers", verifiers)

    def verifiers(self, carrier: str) -> tuple[Webhook, ...]:
        """One verifier per valid secret of a carrier (empty for an unknown carrier)."""
        return self._verifiers.get(carrier, ())

    def signer(self, carrier: str) -> Webhook:
        """The verifier-signer of a carrier's current secret."""
        return Webhook(self.by_carrier[carrier][0])


def parse_courier_secrets(raw: str | None) -> CourierSecrets:
    """Read the JSON setting; a value may hold two space-separated secrets while one rotates."""
    if raw is None or not raw.strip():
        return CourierSecrets(
            by_carrier={k: (v,) for k, v in DEVELOPMENT_SECRETS.items()},
            development=True,
        )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CourierSecretsError(f"ONEWINDOW_COURIER_SECRETS is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CourierSecretsError("ONEWINDOW_COURIER_SECRETS must be a JSON object: carrier -> secret")
    out: dict[str, tuple[str, ...]] = {}
    for carrier, value in data.items():
        if not isinstance(value, str) or not value.split():
            raise CourierSecretsError(f"the secret of {carrier!r} must be a non-empty string")
        secrets = tuple(value.split())
        for secret in secrets:
            try:
                Webhook(secret)
            except Exception as exc:
                raise CourierSecretsError(f"a secret of {carrier!r} is not a whsec_ base64 secret") from exc
        out[str(carrier)] = secrets
    return CourierSecrets(by_carrier=out)


def resolve_courier_secrets(settings: DeliverySettings) -> CourierSecrets:
    """Delivery's override if set, else the platform-wide setting, else development secrets."""
    raw = settings.courier_secrets if settings.courier_secrets is not None else PlatformSettings().courier_secrets
    secrets = parse_courier_secrets(raw)
    if secrets.development:
        log.warning(
            "courier_secrets.development_defaults",
            carriers=sorted(secrets.by_carrier),
            hint="set ONEWINDOW_COURIER_SECRETS in any shared environment",
        )
    return secrets
