"""Clinical date formats: one table used both to find dates and to shift them in place.

Why one table: the pseudonymizer must re-render a shifted date in the *same* format it was written in
(``03/14/1947`` stays ``MM/DD/YYYY``, ``14-Mar-1947`` stays ``DD-Mon-YYYY``), so detection and rendering
share the parse. Year-only values are not PHI under Safe Harbor and are never matched on their own.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import regex as re

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
ORD = r"(?:st|nd|rd|th)"
DAY = r"(?:0?[1-9]|[12]\d|3[01])"
MON_NUM = r"(?:0?[1-9]|1[0-2])"
YEAR4 = r"(?:1[89]\d\d|20\d\d)"

# (name, regex with named groups); tried in order, longest forms first.
FORMATS: list[tuple[str, str]] = [
    ("iso", rf"(?P<y>{YEAR4})(?P<sep>[-/.])(?P<m>{MON_NUM})(?P=sep)(?P<d>{DAY})"),
    ("num_mdy", r"(?P<m>\d{1,2})(?P<sep>[/.-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"),
    ("name_dmy", rf"(?P<d>{DAY})(?P<ord>{ORD})?(?P<sep>[-\s]|\s+of\s+)(?P<mon>{MONTH})(?P<dot>\.)?"
                 rf"(?:(?P<sep2>[-\s]|,\s*)(?P<y>\d{{4}}|\d{{2}}))?"),
    ("name_mdy", rf"(?P<mon>{MONTH})(?P<dot>\.)?\s+(?P<d>{DAY})(?P<ord>{ORD})?(?:(?P<sep2>,?\s+)(?P<y>{YEAR4}))?"),
    ("name_my", rf"(?P<mon>{MONTH})(?P<dot>\.)?(?P<sep2>,?\s+|-|\s+of\s+)(?P<y>{YEAR4})"),
    ("num_md", rf"(?P<m>{MON_NUM})/(?P<d>{DAY})"),
    ("num_my", rf"(?P<m>{MON_NUM})/(?P<y>{YEAR4}|[4-9]\d|3[2-9])"),
]
_COMPILED = [(name, re.compile(rf"^{rx}$", re.IGNORECASE)) for name, rx in FORMATS]

# The detection pattern: any format, not glued to other digits, slashes or letters.
NOT_A_DOSE = r"(?!\s*(?:tabs?|tablets?|caps?|mg|ml|strength|dose|ns|normal saline|of (?:a|the)\b))"
DETECT = (
    r"(?<![\w/.]|\d[-:])(?:" + "|".join(rx.replace("(?P=sep)", "[/.-]") for _, rx in FORMATS) + r")(?![\w/]|[.-]\d)"
    + NOT_A_DOSE
)
DETECT = re.sub(r"\(\?P<\w+>", "(?:", DETECT)


@dataclass(frozen=True)
class ParsedDate:
    form: str
    value: date
    has_year: bool
    has_day: bool
    groups: dict[str, str | None]


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    y = int(text)
    if len(text) == 2:
        y += 1900 if y > 30 else 2000
    return y


def parse(text: str) -> ParsedDate | None:
    """Parse one date written in a clinical format; ``None`` when it is not a real calendar date."""
    text = text.strip()
    for name, rx in _COMPILED:
        m = rx.match(text)
        if not m:
            continue
        g = m.groupdict()
        month = MONTHS[g["mon"].lower()] if g.get("mon") else int(g["m"])
        day = int(g["d"]) if g.get("d") else None
        if name == "num_mdy" and month > 12 and day is not None and day <= 12:
            month, day = day, month  # DD/MM/YYYY written by a non-US source
        year = _year(g.get("y"))
        try:
            value = date(year or 2000, month, day or 1)
        except ValueError:
            continue
        return ParsedDate(name, value, year is not None, day is not None, g)
    return None


def _month_text(original: str, month: int) -> str:
    full = calendar.month_name[month]
    abbr = calendar.month_abbr[month]
    name = full if len(original) > 3 and original.lower() != "sept" else abbr
    if original.isupper():
        return name.upper()
    if original.islower():
        return name.lower()
    return name


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def render(parsed: ParsedDate, value: date) -> str:
    """Write ``value`` the way ``parsed`` was written (padding, separators, month style, 2/4-digit year)."""
    g = parsed.groups

    parts = [g[k] for k in ("m", "d") if g.get(k)]
    padded = any(p.startswith("0") for p in parts) or (len(parts) == 2 and all(len(p) == 2 for p in parts))

    def num(key: str, n: int) -> str:
        return f"{n:02d}" if padded or (len(parts) == 1 and (g[key] or "").startswith("0")) else str(n)

    def year() -> str:
        return f"{value.year % 100:02d}" if len(g.get("y") or "") == 2 else str(value.year)

    def ordinal(text: str | None) -> str:
        if not text:
            return ""
        suffix = _ordinal(value.day)
        return suffix.upper() if text.isupper() else suffix

    form = parsed.form
    dot = g.get("dot") or ""
    if form == "iso":
        return f"{value.year}{g['sep']}{num('m', value.month)}{g['sep']}{num('d', value.day)}"
    if form == "num_mdy":
        return f"{num('m', value.month)}{g['sep']}{num('d', value.day)}{g['sep']}{year()}"
    if form == "num_md":
        return f"{num('m', value.month)}/{num('d', value.day)}"
    if form == "num_my":
        return f"{num('m', value.month)}/{value.year}"
    month = _month_text(g["mon"], value.month) + (dot if len(g["mon"]) <= 4 else "")
    if form == "name_dmy":
        out = f"{num('d', value.day)}{ordinal(g.get('ord'))}{g['sep']}{month}"
        return out + (f"{g['sep2']}{year()}" if g.get("y") else "")
    if form == "name_mdy":
        out = f"{month} {value.day}{ordinal(g.get('ord'))}"
        return out + (f"{g['sep2']}{value.year}" if g.get("y") else "")
    return f"{month}{g['sep2']}{value.year}"  # name_my


def shift(text: str, days: int) -> str | None:
    """The same date moved by ``days``, in its original format; ``None`` if ``text`` is not a date."""
    parsed = parse(text)
    if parsed is None:
        return None
    return render(parsed, parsed.value + timedelta(days=days))
