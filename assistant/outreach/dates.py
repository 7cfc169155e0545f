"""Dates written the way each template language writes them ("November 30, 2026", "30 de noviembre de 2026",
"2026年11月30日").

Why a table and not a library: Babel is not installed and a message needs only the day, the month and the year.
Month names are in the case a date takes after a day number (Russian and Polish genitive). Digits stay Western
Arabic in every language, so that a date can be checked against the record in any script.
"""

from __future__ import annotations

from datetime import date

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
    "tl": ("Enero", "Pebrero", "Marso", "Abril", "Mayo", "Hunyo", "Hulyo", "Agosto", "Setyembre", "Oktubre",
           "Nobyembre", "Disyembre"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
    "ar": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
           "ديسمبر"),
    "ht": ("janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm", "oktòb", "novanm", "desanm"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "pt": ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
           "novembro", "dezembro"),
    "pl": ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
           "października", "listopada", "grudnia"),
    "hi": ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"),
}  # fmt: skip

# {d} day, {m} month number, {month} month name, {y} year.
_PATTERNS = {
    "en": "{month} {d}, {y}", "tl": "{month} {d}, {y}", "es": "{d} de {month} de {y}", "pt": "{d} de {month} de {y}",
    "ru": "{d} {month} {y}", "pl": "{d} {month} {y}", "fr": "{d} {month} {y}", "ht": "{d} {month} {y}",
    "ar": "{d} {month} {y}", "hi": "{d} {month} {y}", "de": "{d}. {month} {y}", "vi": "{d} tháng {m} năm {y}",
    "zh-Hans": "{y}年{m}月{d}日", "zh-Hant": "{y}年{m}月{d}日", "ja": "{y}年{m}月{d}日", "ko": "{y}년 {m}월 {d}일",
}  # fmt: skip


def format_date(day: date, language: str) -> str:
    """The date in ``language``; a language with no pattern gets the English form (and the draft says so)."""
    pattern = _PATTERNS.get(language, _PATTERNS["en"])
    months = _MONTHS.get(language, _MONTHS["en"])
    return pattern.format(d=day.day, m=day.month, y=day.year, month=months[day.month - 1])


def has_pattern(language: str) -> bool:
    return language in _PATTERNS
