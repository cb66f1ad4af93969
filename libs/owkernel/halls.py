"""Halls (市县两级政务服务大厅): the code pattern and the city's hall, shared by every component.

The registry of halls is intake's (``GET /api/v1/halls``); other components cannot read it and
accept any code of this shape, so everything they record names a hall the same way.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# The city's hall: what everything made without a hall (or before halls) belongs to.
CITY_HALL = "CITY"
# Upper-case letters, digits, "_" and "-", starting with a letter: "CITY", "ZHANGDIAN", "C370303".
HALL_CODE_PATTERN = r"^[A-Z][A-Z0-9_-]{1,19}$"

HallCode = Annotated[str, Field(pattern=HALL_CODE_PATTERN, min_length=2, max_length=20)]

__all__ = ["CITY_HALL", "HALL_CODE_PATTERN", "HallCode"]
