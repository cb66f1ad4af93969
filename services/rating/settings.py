"""Rating's settings (env prefix ``RATING_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class RatingSettings(ServiceSettings):
    """Everything rating reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="RATING_", extra="ignore")

    service_name: str = "rating"
    port: int = 8004
    database_url: str = "sqlite+aiosqlite:///./.data/rating.db"


@lru_cache
def get_settings() -> RatingSettings:
    """The process's settings, read once."""
    return RatingSettings()
