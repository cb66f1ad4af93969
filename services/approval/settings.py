"""Approval's settings (env prefix ``APPROVAL_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class ApprovalSettings(ServiceSettings):
    """Everything approval reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="APPROVAL_", extra="ignore")

    service_name: str = "approval"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///./.data/approval.db"

    # Working days are counted in the hall's own time zone: "today" and "the acceptance day".
    timezone: str = "Asia/Shanghai"
    # Load the Chinese statutory calendar from the chinesecalendar package into any year not yet
    # entered (an administrator's PUT always wins over the package).
    calendar_seed: bool = True

    # Cards: a clock turns yellow when at most ``yellow_days_left`` working days are left OR at
    # least ``yellow_used_ratio`` of its working days are used (whichever comes first); red when
    # its due date has passed.
    yellow_days_left: int = Field(default=1, ge=0)
    yellow_used_ratio: float = Field(default=0.8, gt=0.0, le=1.0)
    card_scan_interval_seconds: float = Field(default=60.0, gt=0)
    card_scan_batch: int = Field(default=5000, ge=1)

    # Reminders to staff: "log" for the local run, "webhook" to push to a signed HTTP endpoint.
    notify_adapter: Literal["log", "webhook"] = "log"
    notify_webhook_url: str | None = None
    # Standard Webhooks secret ("whsec_" + base64) that signs every push.
    notify_webhook_secret: str | None = None
    notify_timeout_seconds: float = Field(default=5.0, gt=0)
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff_seconds: float = Field(default=2.0, gt=0)
    notify_backoff_max_seconds: float = Field(default=900.0, gt=0)
    notify_poll_seconds: float = Field(default=1.0, gt=0)
    notify_batch: int = Field(default=50, ge=1)
    # The daily digest goes out once a day, from this local hour on.
    digest_hour: int = Field(default=8, ge=0, le=23)
    digest_check_seconds: float = Field(default=60.0, gt=0)


@lru_cache
def get_settings() -> ApprovalSettings:
    """The process's settings, read once."""
    return ApprovalSettings()
