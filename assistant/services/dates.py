"""The reference day a service computes for: today unless the caller names one, and only a day inside the years a
care plan can mean.

Why a bound: deadlines, look-back windows and measurement periods add and subtract days and years from the
reference day, and ``date`` arithmetic overflows at the ends of the calendar (year 1 or 9999). A day outside
1900-2199 is a typing mistake or a probe; it is refused with a clear error, the same through the API and the CLI,
rather than failing deep inside an engine.
"""

from __future__ import annotations

from datetime import date

from assistant.errors import BadRequest

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def reference_day(as_of: date | None) -> date:
    """``as_of`` when given and within bounds, else today; a day out of bounds is a BadRequest."""
    if as_of is None:
        return date.today()
    if not EARLIEST <= as_of <= LATEST:
        raise BadRequest(f"as_of {as_of.isoformat()} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}")
    return as_of
