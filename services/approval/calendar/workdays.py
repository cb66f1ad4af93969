"""The working-day arithmetic: statutory holidays off, adjusted weekend days on (调休).

A year with published data counts its holidays and adjusted working days; a year without data
counts Monday to Friday only, and every result that touched such a year says so (``provisional``),
so a deadline is never a silent guess. Lookups are a binary search over the ordinals of working
days, so a deadline costs the same whatever its length.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class YearData:
    """One year's published arrangement."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Deadline:
    """A computed date and whether it rests on a year without published data."""

    due: date
    provisional: bool


@dataclass(frozen=True)
class Count:
    """A number of working days and whether it rests on a year without published data."""

    days: int
    provisional: bool


class WorkingCalendar:
    """Working days over the years with data and, beyond them, weekends only."""

    def __init__(self, years: Mapping[int, YearData]) -> None:
        self._years = dict(years)
        self._lo = min([*self._years, 2000])
        self._hi = self._lo - 1
        self._ordinals: list[int] = []
        self._extend_to(max([*self._years, self._lo]) + 2)

    @property
    def years(self) -> frozenset[int]:
        """The years with published data."""
        return frozenset(self._years)

    def has_data(self, year: int) -> bool:
        """True when ``year``'s arrangement is known."""
        return year in self._years

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day (weekdays only in a year without data)."""
        data = self._years.get(day.year)
        if data is None:
            return day.weekday() < 5
        if day in data.workdays:
            return True
        return day.weekday() < 5 and day not in data.holidays

    def _extend_to(self, year: int) -> None:
        # Years are appended in order; anything before ``_lo`` is never asked for (clocks start
        # at acceptance, and acceptance is never before the platform's first year).
        while self._hi < year:
            self._hi += 1
            day = date(self._hi, 1, 1)
            end = date(self._hi, 12, 31)
            one = timedelta(days=1)
            while day <= end:
                if self.is_working_day(day):
                    self._ordinals.append(day.toordinal())
                day += one

    def _check_low(self, day: date) -> None:
        if day.year < self._lo:
            raise ValueError(f"{day} is before the calendar's first year {self._lo}")

    def _provisional(self, first: date, last: date) -> bool:
        return any(y not in self._years for y in range(first.year, last.year + 1))

    def add_working_days(self, start: date, days: int) -> Deadline:
        """The date of the ``days``-th working day after ``start`` (``start`` itself for 0)."""
        if days < 0:
            raise ValueError("days must not be negative")
        self._check_low(start)
        if days == 0:
            return Deadline(start, False)
        index = bisect_right(self._ordinals, start.toordinal()) + days - 1
        while index >= len(self._ordinals) or start.year > self._hi:
            self._extend_to(self._hi + 1 + days // 240)
            index = bisect_right(self._ordinals, start.toordinal()) + days - 1
        due = date.fromordinal(self._ordinals[index])
        return Deadline(due, self._provisional(start + timedelta(days=1), due))

    def working_days_between(self, after: date, until: date) -> Count:
        """How many working days fall in (``after``, ``until``]."""
        if until <= after:
            return Count(0, False)
        self._check_low(after)
        if until.year > self._hi:
            self._extend_to(until.year)
        days = bisect_right(self._ordinals, until.toordinal()) - bisect_right(self._ordinals, after.toordinal())
        return Count(days, self._provisional(after + timedelta(days=1), until))

    def working_days_in(self, first: date, before: date) -> Count:
        """How many working days fall in [``first``, ``before``)."""
        one = timedelta(days=1)
        return self.working_days_between(first - one, before - one)
