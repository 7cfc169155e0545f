"""CQL interval comparisons over naive datetimes: as much of CQL's semantics as the two measures use.

Why a module of its own: the measures' date logic ("overlaps day of", "ends during", "starts on or before") must
behave as CQL defines it, including intervals with a missing boundary. CQL reads a missing *closed* boundary as
unbounded (the minimum or maximum DateTime) and a missing *open* boundary as unknown; the reference engine
carries an unknown boundary as the range of values it could take, and a comparison that the range leaves
undecided is null, which a ``where`` clause treats as false. ``Bound`` is that range (equal ends when known).

Comparisons take ``day=True`` for CQL's "day of" precision (compare calendar dates), else they compare exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

MIN = datetime.min
MAX = datetime.max


@dataclass(frozen=True)
class Bound:
    earliest: datetime
    latest: datetime


def exactly(moment: datetime) -> Bound:
    return Bound(moment, moment)


UNBOUNDED_LOW = exactly(MIN)
UNBOUNDED_HIGH = exactly(MAX)


@dataclass(frozen=True)
class Span:
    low: Bound
    high: Bound

    @property
    def end(self) -> datetime:
        """CQL ``end of``: the latest the interval can end (MAX when unbounded)."""
        return self.high.latest


def closed(start: datetime | None, end: datetime | None) -> Span:
    """``Interval[start, end]``: a missing boundary is unbounded."""
    return Span(exactly(start) if start else UNBOUNDED_LOW, exactly(end) if end else UNBOUNDED_HIGH)


def point(moment: datetime | None) -> Span | None:
    """A DateTime as an interval (QICoreCommon ``toInterval()``), or None when there is no DateTime."""
    return Span(exactly(moment), exactly(moment)) if moment else None


def fhir_period(start: datetime | None, end: datetime | None) -> Span | None:
    """FHIRHelpers ``ToInterval(Period)``: ``Interval[start, end]``, but ``Interval(null, end]`` without a start.

    None when neither boundary is known (the source gave no period).
    """
    if start is None and end is None:
        return None
    if start is None:
        return Span(Bound(MIN, end or MAX), exactly(end) if end else UNBOUNDED_HIGH)
    return closed(start, end)


def _key(moment: datetime, day: bool) -> datetime | date:
    return moment.date() if day else moment


def on_or_before(a: Bound, b: Bound, day: bool) -> bool | None:
    """``a <= b``: True or False when the ranges decide it, None when they do not."""
    if _key(a.latest, day) <= _key(b.earliest, day):
        return True
    if _key(a.earliest, day) > _key(b.latest, day):
        return False
    return None


def all_of(*values: bool | None) -> bool | None:
    """CQL ``and`` over three-valued results."""
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def overlaps(a: Span | None, b: Span, day: bool = True) -> bool:
    """CQL ``a overlaps [day of] b``; null (and a missing interval) counts as false."""
    if a is None:
        return False
    return all_of(on_or_before(a.low, b.high, day), on_or_before(b.low, a.high, day)) is True


def includes_point(b: Span, moment: Bound | None, day: bool = True) -> bool:
    """CQL ``moment during [day of] b``."""
    if moment is None:
        return False
    return all_of(on_or_before(b.low, moment, day), on_or_before(moment, b.high, day)) is True


def during(a: Span | None, b: Span, day: bool = True) -> bool:
    """CQL ``a during [day of] b`` (a included in b)."""
    if a is None:
        return False
    return all_of(on_or_before(b.low, a.low, day), on_or_before(a.high, b.high, day)) is True


def starts_during(a: Span | None, b: Span, day: bool = True) -> bool:
    return a is not None and includes_point(b, a.low, day)


def ends_during(a: Span | None, b: Span, day: bool = True) -> bool:
    return a is not None and includes_point(b, a.high, day)


def ends_on_or_before(a: Span | None, moment: datetime, day: bool = False) -> bool:
    return a is not None and on_or_before(a.high, exactly(moment), day) is True


def starts_on_or_before(a: Span | None, moment: datetime, day: bool = False) -> bool:
    return a is not None and on_or_before(a.low, exactly(moment), day) is True


def add_months(moment: datetime, months: int) -> datetime:
    """CQL date arithmetic with calendar months (the day is clamped to the target month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    days_in_month = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30,
                     31, 31, 30, 31, 30, 31][month - 1]  # fmt: skip
    return moment.replace(year=year, month=month, day=min(moment.day, days_in_month))
