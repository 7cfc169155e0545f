"""Business-day arithmetic on the real US federal holiday calendar (the ``holidays`` package)."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.business_days import (
    add_business_days,
    calendar_deadline,
    holiday_name,
    is_business_day,
    latest_business_day_on_or_before,
    why_moved,
)


@pytest.mark.parametrize(
    ("discharged", "due"),
    [
        (date(2026, 11, 20), date(2026, 11, 24)),  # Friday -> Tuesday (knowledge/tcm.md's own example)
        (date(2026, 11, 25), date(2026, 11, 30)),  # day before Thanksgiving -> Monday (the Friday after counts)
        (date(2026, 12, 24), date(2026, 12, 29)),  # Christmas Eve -> Tuesday (Christmas Friday skipped)
        (date(2026, 12, 31), date(2027, 1, 5)),  # New Year's Eve -> Tuesday (New Year's Day Friday skipped)
        (date(2027, 12, 23), date(2027, 12, 28)),  # Christmas 2027 is a Saturday, observed Friday 12-24
        (date(2026, 7, 2), date(2026, 7, 7)),  # Independence Day 2026 is a Saturday, observed Friday 07-03
        (date(2026, 11, 21), date(2026, 11, 24)),  # a Saturday discharge counts from Monday
    ],
)
def test_two_business_days_after_discharge(discharged: date, due: date) -> None:
    assert add_business_days(discharged, 2) == due


def test_counting_backwards_and_zero() -> None:
    assert add_business_days(date(2026, 11, 30), -2) == date(2026, 11, 25)
    assert add_business_days(date(2026, 11, 26), 0) == date(2026, 11, 26)


def test_federal_holidays_only() -> None:
    assert holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert holiday_name(date(2026, 11, 27)) is None  # the day after Thanksgiving is not a federal holiday
    assert holiday_name(date(2026, 12, 24)) is None
    assert holiday_name(date(2027, 12, 24)) == "Christmas Day (observed)"
    assert not is_business_day(date(2027, 1, 1)) and not is_business_day(date(2026, 11, 28))
    assert is_business_day(date(2026, 12, 31))


def test_a_deadline_on_a_holiday_or_weekend_moves_earlier_never_later() -> None:
    assert calendar_deadline(date(2026, 12, 18), 7) == date(2026, 12, 24)  # Christmas Day -> Thursday
    assert calendar_deadline(date(2026, 12, 25), 7) == date(2026, 12, 31)  # New Year's Day 2027 -> Thursday
    assert calendar_deadline(date(2026, 11, 19), 7) == date(2026, 11, 25)  # Thanksgiving -> Wednesday
    assert calendar_deadline(date(2026, 11, 20), 7) == date(2026, 11, 27)  # a business day stays
    assert latest_business_day_on_or_before(date(2026, 11, 29)) == date(2026, 11, 27)  # Sunday -> Friday
    assert why_moved(date(2026, 12, 25), date(2026, 12, 24)).startswith("2026-12-25 is Christmas Day")  # type: ignore[union-attr]
    assert why_moved(date(2026, 11, 27), date(2026, 11, 27)) is None
