"""The measurement period: the one parameter both measures take.

Why naive datetimes: connectors keep the wall-clock time a source wrote and drop the UTC offset (see
``connectors/fhir.py``), so records compare with each other; the period is expressed the same way, from
00:00:00.000 on its first day to 23:59:59.999 on its last, as the CQL default ``Interval[@2025-01-01T00:00:00.000,
@2025-12-31T23:59:59.999]`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time


@dataclass(frozen=True)
class MeasurementPeriod:
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return self.end.date()

    def __str__(self) -> str:
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"


def period_between(first_day: date, last_day: date) -> MeasurementPeriod:
    """Whole days, first to last inclusive."""
    if last_day < first_day:
        raise ValueError(f"measurement period ends ({last_day}) before it starts ({first_day})")
    last_moment = time(23, 59, 59, 999000)
    return MeasurementPeriod(datetime.combine(first_day, time.min), datetime.combine(last_day, last_moment))


def calendar_year(as_of: date) -> MeasurementPeriod:
    """The default: the calendar year of the as-of date (eCQMs report on calendar years)."""
    return period_between(date(as_of.year, 1, 1), date(as_of.year, 12, 31))


def parse_period(start: str, end: str) -> MeasurementPeriod:
    """From ISO dates (or date-times; only the date counts), as a MeasureReport's ``period`` writes them."""
    return period_between(date.fromisoformat(start[:10]), date.fromisoformat(end[:10]))
