"""Business days for care-transition deadlines: Monday to Friday, US federal holidays skipped.

Why its own module: Transitional Care Management counts its interactive-contact deadline in business days
("Monday through Friday excluding holidays", knowledge/tcm.md), and every deadline the checklist shows must be
the one a biller would count. Holidays come from the ``holidays`` package's US calendar in its public category
(the federal holidays, with the observed weekday when one falls on a weekend, e.g. Friday 2027-12-24 for
Christmas on a Saturday). ``holidays.financial`` is the stock exchange's calendar and is not used.

Deadlines counted in calendar days (the 7- and 14-day face-to-face visit) can land on a weekend or a holiday.
Such a deadline moves to the business day before, never after: a team that acts by the date shown is never
late, whichever way a payer reads the rule.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _federal(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=year, categories=(holidays.PUBLIC,))


def holiday_name(day: date) -> str | None:
    """The federal holiday on ``day`` (observed days included), or None."""
    return _federal(day.year).get(day)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def add_business_days(day: date, n: int) -> date:
    """The ``n``-th business day after ``day`` (before it when ``n`` is negative); ``day`` itself never counts.

    A Friday discharge plus 2 business days is the following Tuesday; the Wednesday before Thanksgiving plus 2
    is the Monday after it (Thanksgiving is a federal holiday, the Friday after it is not).
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current):
            remaining -= 1
    return current


def latest_business_day_on_or_before(day: date) -> date:
    """The deadline rule: a deadline on a weekend or holiday moves earlier, to the business day before."""
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def calendar_deadline(start: date, days: int) -> date:
    """``days`` calendar days after ``start``, moved earlier when that day is not a business day."""
    return latest_business_day_on_or_before(start + timedelta(days=days))


def why_moved(original: date, moved: date) -> str | None:
    """One sentence saying why a deadline moved earlier, or None when it did not move."""
    if original == moved:
        return None
    reason = holiday_name(original) or original.strftime("%A")
    return (f"{original.isoformat()} is {reason}, so the deadline moves earlier to the business day before, "
            f"{moved.isoformat()} ({moved.strftime('%A')})")
