"""Administrative division codes (12 digits, down to the village) and the delivery zones.

A code reads province (2) city (2) county (2) township (3) village (3). The shape is checked for
every code; the province part against all 31 provinces; the city, county and township parts
against the shipped excerpt where it covers them (Shandong's cities, Yantai's counties and
townships: ``data/divisions.json``, from the National Bureau of Statistics' 统计用区划代码 via
github.com/modood/Administrative-divisions-of-China). Outside the excerpt a part is accepted
when its shape is right, so an address elsewhere in China is never refused for want of data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

DATA_FILE = Path(__file__).parent / "data" / "divisions.json"

Zone = Literal["city", "province", "national", "remote"]
# Couriers price Tibet and Xinjiang as remote areas (偏远地区).
REMOTE_PROVINCES = frozenset({"54", "65"})


class RegionCodeError(ValueError):
    """A region code that is not a known 12-digit division code; ``str()`` says why, ``code`` which part."""

    def __init__(self, message: str, code: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Divisions:
    """The shipped division data, by level."""

    provinces: dict[str, str]
    cities: dict[str, str]
    counties: dict[str, str]
    townships: dict[str, str]
    source: str

    @property
    def provinces_with_cities(self) -> frozenset[str]:
        """Provinces whose cities the data lists completely."""
        return frozenset(code[:2] for code in self.cities)

    @property
    def cities_with_counties(self) -> frozenset[str]:
        """Cities whose counties the data lists completely."""
        return frozenset(code[:4] for code in self.counties)

    @property
    def counties_with_townships(self) -> frozenset[str]:
        """Counties whose townships the data lists."""
        return frozenset(code[:6] for code in self.townships)


@lru_cache
def divisions() -> Divisions:
    """The division data, read once per process."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return Divisions(
        provinces=dict(raw["provinces"]),
        cities=dict(raw["cities"]),
        counties=dict(raw["counties"]),
        townships=dict(raw["townships"]),
        source=str(raw["source"]),
    )


@dataclass(frozen=True)
class Region:
    """A checked division code with the names the data knows."""

    code: str
    province_name: str
    city_name: str | None
    county_name: str | None
    township_name: str | None

    @property
    def province_code(self) -> str:
        """Two digits."""
        return self.code[:2]

    @property
    def city_code(self) -> str:
        """Four digits."""
        return self.code[:4]

    @property
    def county_code(self) -> str:
        """Six digits."""
        return self.code[:6]

    @property
    def township_code(self) -> str:
        """Nine digits."""
        return self.code[:9]


def parse_region(code: str) -> Region:
    """Check a 12-digit division code; raise ``RegionCodeError`` saying which part is wrong."""
    if len(code) != 12 or not code.isascii() or not code.isdigit():
        raise RegionCodeError(
            "A region code is exactly 12 digits (province, city, county, township, village).", "region_code_format"
        )
    data = divisions()
    province = data.provinces.get(code[:2])
    if province is None:
        raise RegionCodeError(f"{code[:2]} is not a province code.", "region_province_unknown", prefix=code[:2])
    if code[2:4] == "00":
        raise RegionCodeError("The code names no city.", "region_city_missing")
    city = data.cities.get(code[:4])
    if city is None and code[:2] in data.provinces_with_cities:
        raise RegionCodeError(
            f"{code[:4]} is not a city of {province}.", "region_city_unknown", prefix=code[:4], province_name=province
        )
    county = data.counties.get(code[:6])
    if county is None and code[:4] in data.cities_with_counties:
        raise RegionCodeError(
            f"{code[:6]} is not a county of {city}.", "region_county_unknown", prefix=code[:6], city_name=city or ""
        )
    if code[6:9] == "000":
        raise RegionCodeError("The code names no township.", "region_township_missing")
    if code[9:12] == "000":
        raise RegionCodeError("The code names no village or community.", "region_village_missing")
    township = data.townships.get(code[:9])
    return Region(code=code, province_name=province, city_name=city, county_name=county, township_name=township)


def is_valid_region(code: str) -> bool:
    """True for a code ``parse_region`` accepts."""
    try:
        parse_region(code)
    except RegionCodeError:
        return False
    return True


def zone_of(code: str, *, home_city_code: str) -> Zone:
    """The tariff zone of an address seen from the hall's city."""
    if code[:4] == home_city_code[:4]:
        return "city"
    if code[:2] == home_city_code[:2]:
        return "province"
    if code[:2] in REMOTE_PROVINCES:
        return "remote"
    return "national"


def county_name(code: str) -> str | None:
    """The name of a six-digit county code, when the data has it."""
    return divisions().counties.get(code[:6])


def township_name(code: str) -> str | None:
    """The name of a nine-digit township code, when the data has it."""
    return divisions().townships.get(code[:9])


# The hall's own city (Yantai): tariff zones are counted from here.
HOME_CITY_CODE = "370600"
