"""HL7 value helpers shared by the HL7 v2 and C-CDA connectors: timestamps, language codes and the discharge
disposition table (HL7 table 0112, which C-CDA's dischargeDispositionCode uses too).

Why a module of its own: connectors read their formats independently and import only the records model and
shared helpers such as these, never each other.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Discharge disposition (HL7 table 0112 / NUBC patient discharge status). Shared with the C-CDA
# connector, whose dischargeDispositionCode uses the same code system (2.16.840.1.113883.12.112).
DISCHARGE_DISPOSITIONS = {
    "01": "home or self care",
    "02": "short-term general hospital",
    "03": "skilled nursing facility",
    "04": "intermediate care facility",
    "05": "another type of institution",
    "06": "home health service",
    "07": "left against medical advice",
    "09": "admitted as an inpatient",
    "20": "expired",
    "21": "court or law enforcement",
    "30": "still patient",
    "43": "federal health care facility",
    "50": "hospice - home",
    "51": "hospice - medical facility",
    "61": "swing bed",
    "62": "inpatient rehabilitation facility",
    "63": "long term care hospital",
    "64": "nursing facility (Medicaid certified)",
    "65": "psychiatric hospital",
    "66": "critical access hospital",
    "70": "another type of health care institution",
}

# ISO 639-2 and English names -> BCP-47 primary tags for the languages ACO outreach most often needs.
LANGUAGES = {
    "en": "en", "eng": "en", "english": "en",
    "es": "es", "spa": "es", "spanish": "es",
    "zh": "zh", "zho": "zh", "chi": "zh", "chinese": "zh", "cmn": "zh", "yue": "zh",
    "vi": "vi", "vie": "vi", "vietnamese": "vi",
    "ht": "ht", "hat": "ht", "haitian creole": "ht",
    "fr": "fr", "fra": "fr", "fre": "fr", "french": "fr",
    "ru": "ru", "rus": "ru", "russian": "ru",
    "ko": "ko", "kor": "ko", "korean": "ko",
    "ar": "ar", "ara": "ar", "arabic": "ar",
    "pt": "pt", "por": "pt", "portuguese": "pt",
    "tl": "tl", "tgl": "tl", "tagalog": "tl",
    "pl": "pl", "pol": "pl", "polish": "pl",
    "de": "de", "deu": "de", "ger": "de", "german": "de",
    "it": "it", "ita": "it", "italian": "it",
    "hi": "hi", "hin": "hi", "hindi": "hi",
    "ja": "ja", "jpn": "ja", "japanese": "ja",
    "so": "so", "som": "so", "somali": "so",
}  # fmt: skip

_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$")


def parse_ts(value: str) -> datetime | None:
    """Parse an HL7 TS/DTM (``YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]``); blank -> None.

    Why our own: ``hl7.parse_datetime`` accepts odd-length digit runs such as ``2013021110005``;
    a timestamp we cannot read unambiguously must be reported, not guessed. Raises ``ValueError``.
    """
    value = value.strip()
    if not value:
        return None
    match = _TS.match(value)
    if not match:
        raise ValueError(f"not an HL7 date/time: {value!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz = None
    if offset:
        sign = 1 if offset[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    micro = int((fraction or "0").ljust(6, "0")) if fraction else 0
    try:
        return datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0),
            micro, tzinfo=tz,
        )  # fmt: skip
    except ValueError:
        raise ValueError(f"not a valid HL7 date/time: {value!r}") from None


def language_tag(value: str) -> str | None:
    """Map a language code or name to its BCP-47 primary tag (``en-US`` -> ``en``, ``spa`` -> ``es``)."""
    value = value.strip().lower()
    if not value:
        return None
    if value in LANGUAGES:
        return LANGUAGES[value]
    primary = re.split(r"[-_]", value)[0]
    return LANGUAGES.get(primary, primary if len(primary) == 2 and primary.isalpha() else None)
