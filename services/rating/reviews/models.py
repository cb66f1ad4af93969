"""Ratings (every channel) and rating links."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owkernel.db import UtcDateTime
from services.rating.db import Base


class Review(Base):
    """One rating, attributed to application, item, department, window and clerk where known."""

    __tablename__ = "ratings"
    __table_args__ = (
        # The figures scan by period; the composite lets PostgreSQL answer from the index alone.
        Index("ix_ratings_rated_at", "rated_at"),
        Index("ix_ratings_department_rated_at", "department", "rated_at"),
        Index("ix_ratings_hall_rated_at", "hall", "rated_at"),
    )

    review_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # online | kiosk | link | survey
    score: Mapped[int] = mapped_column(SmallInteger)
    indicators: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    application_no: Mapped[str | None] = mapped_column(String(40), index=True)
    item_code: Mapped[str | None] = mapped_column(String(80))
    department: Mapped[str | None] = mapped_column(String(80))
    window: Mapped[str | None] = mapped_column(String(40))
    clerk: Mapped[str | None] = mapped_column(String(120))
    # The hall it counts for: its kiosk's, its application's, else the city's.
    hall: Mapped[str] = mapped_column(String(20), server_default="CITY", default="CITY")
    kiosk_id: Mapped[str | None] = mapped_column(String(40))
    survey_import_id: Mapped[str | None] = mapped_column(String(40))
    # One online/link rating per application ("app:<no>"), one row per survey response
    # ("survey:<institution>:<response id>"): the database refuses a second.
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    # Personal data: who rated. Never leaves the service towards staff.
    rater_id_number: Mapped[str | None] = mapped_column(String(40))
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The hall's calendar day of ``rated_at``: the day the rating counts for in the figures.
    rated_on: Mapped[date] = mapped_column(Date)
    # An appeal against it was upheld: it no longer counts.
    annulled: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a bad review: its rectification closed within its deadline (None while open).
    rectified_on_time: Mapped[bool | None] = mapped_column(Boolean)
    rectified: Mapped[bool] = mapped_column(Boolean, default=False)


class RatingLink(Base):
    """A single-use rating link sent by SMS; the token itself is signed, this row makes it single-use."""

    __tablename__ = "rating_links"

    link_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_no: Mapped[str] = mapped_column(String(40), index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_id: Mapped[str | None] = mapped_column(String(40))


class SigningSecret(Base):
    """A generated HMAC key kept so every replica and restart signs links the same way."""

    __tablename__ = "rating_link_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RatingDaily(Base):
    """The figures rolled up per local day, grouping, key and channel, kept in step with every
    rating, annulment and rectification (same transaction), so the public figures read a few
    rows per day instead of every rating."""

    __tablename__ = "rating_daily"

    # department | window | item | clerk | channel | hall
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # "" when the rating names none
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    bad: Mapped[int] = mapped_column(Integer, default=0)
    rectified: Mapped[int] = mapped_column(Integer, default=0)
    rectified_on_time: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[int] = mapped_column(Integer, default=0)
    s1: Mapped[int] = mapped_column(Integer, default=0)
    s2: Mapped[int] = mapped_column(Integer, default=0)
    s3: Mapped[int] = mapped_column(Integer, default=0)
    s4: Mapped[int] = mapped_column(Integer, default=0)
    s5: Mapped[int] = mapped_column(Integer, default=0)
