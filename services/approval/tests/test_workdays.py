"""The working-day arithmetic on the chinesecalendar package's data (no service needed)."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from services.approval.calendar.service import package_years
from services.approval.calendar.workdays import WorkingCalendar, YearData
from services.approval.runtime import CardRule


def calendar_2026() -> WorkingCalendar:
    days = package_years()[2026]
    return WorkingCalendar(
        {
            2026: YearData(
                holidays=frozenset(d for d, k, _ in days if k == "holiday"),
                workdays=frozenset(d for d, k, _ in days if k == "workday"),
            )
        }
    )


def test_the_package_says_what_we_rely_on_for_2026() -> None:
    days = package_years()[2026]
    holidays = {d for d, k, _ in days if k == "holiday"}
    workdays = {d for d, k, _ in days if k == "workday"}
    assert {date(2026, 10, d) for d in range(1, 8)} <= holidays  # National Day, 1-7 October
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= workdays  # Sunday 20 Sept, Saturday 10 Oct work
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def test_national_day_and_the_adjusted_weekend_days() -> None:
    cal = calendar_2026()
    # Monday 28 September, 5 days: 29, 30 September, (1-7 October off), 8, 9 and Saturday 10 October.
    assert cal.add_working_days(date(2026, 9, 28), 5).due == date(2026, 10, 10)
    # Friday 18 September, 2 days: Sunday 20 September is a working day, then Monday 21.
    assert cal.add_working_days(date(2026, 9, 18), 2).due == date(2026, 9, 21)
    assert cal.is_working_day(date(2026, 10, 10)) and not cal.is_working_day(date(2026, 10, 5))
    assert not cal.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 8)).days == 1
    assert cal.add_working_days(date(2026, 9, 28), 0).due == date(2026, 9, 28)


def test_a_year_without_data_is_weekends_only_and_says_so() -> None:
    cal = calendar_2026()
    inside = cal.add_working_days(date(2026, 12, 21), 5)
    assert inside.due == date(2026, 12, 28) and inside.provisional is False
    into = cal.add_working_days(date(2026, 12, 28), 5)
    # 29, 30, 31 December, then Friday 1 January 2027 counted as a weekday (no data), Monday 4.
    assert into.due == date(2027, 1, 4) and into.provisional is True
    assert cal.working_days_between(date(2026, 12, 30), date(2027, 1, 5)).provisional is True
    known = WorkingCalendar({2026: YearData(), 2027: YearData(holidays=frozenset({date(2027, 1, 1)}))})
    assert known.add_working_days(date(2026, 12, 28), 5) == type(into)(date(2027, 1, 5), False)
    far = cal.add_working_days(date(2026, 6, 1), 400)
    assert far.provisional is True and far.due.year == 2027


def test_yellow_rule() -> None:
    rule = CardRule(days_left=1, used_ratio=0.8)
    assert rule.yellow_offset(5) == 4  # one day left, 80% used: the same day
    assert rule.yellow_offset(20) == 16  # 80% comes before the last day
    assert rule.yellow_offset(1) == 0  # a one-day clock is yellow from the start
    assert rule.yellow_offset(0) == 0
    assert CardRule(days_left=2, used_ratio=1.0).yellow_offset(10) == 8
