"""Rating's settings (env prefix ``RATING_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings

DEFAULT_WEIGHTS = {
    "satisfaction": 40.0,
    "on_time": 25.0,
    "red_cards": 15.0,
    "inspections": 10.0,
    "online": 10.0,
}


class RatingSettings(ServiceSettings):
    """Everything rating reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="RATING_", extra="ignore")

    service_name: str = "rating"
    port: int = 8004
    database_url: str = "sqlite+aiosqlite:///./.data/rating.db"

    # Figures, periods and assessment months are counted in the hall's local time.
    timezone: str = "Asia/Shanghai"
    # Working days a department has to rectify a bad review (approval's calendar counts them).
    rectification_due_working_days: int = Field(default=5, ge=1, le=60)
    # Who answers for a window desk's kiosk votes when the kiosk names no department.
    hall_department: str = "HALL"

    # A kiosk may vote at most once per interval and at most so many times an hour.
    kiosk_min_interval_seconds: float = Field(default=5.0, ge=0)
    kiosk_max_per_hour: int = Field(default=240, ge=1)

    # Rating links (SMS): HMAC key; when unset one is generated once and kept in the database.
    link_secret: SecretStr | None = None
    link_ttl_hours: float = Field(default=72.0, gt=0)
    # The console's rating page (web/views/ratelinks.js, #/rate?token=...): the token stays in the hash.
    link_base_url: str = "http://127.0.0.1:8000/#/rate"
    # How a rating link reaches its applicant. "simulated": an SMS gateway stand-in that keeps the
    # message where only the applicant reads it (GET /api/v1/ratings/links/mine); the only one so far.
    message_sender: Literal["simulated"] = "simulated"

    survey_max_rows: int = Field(default=100_000, ge=1)

    # The monthly 100-point assessment: component weights (they are scaled to sum to 100),
    # points a red card or an inspection finding costs within its component.
    assessment_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    assessment_red_card_points: float = Field(default=5.0, ge=0)
    assessment_default_finding_points: int = Field(default=5, ge=0)
    # Compute and publish last month's assessment by itself (checked this often), besides on demand.
    assessment_auto: bool = True
    assessment_check_seconds: float = Field(default=3600.0, gt=0)


@lru_cache
def get_settings() -> RatingSettings:
    """The process's settings, read once."""
    return RatingSettings()
