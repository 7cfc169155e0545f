"""How many SMS segments a text takes, and in which encoding (3GPP TS 23.038 and TS 23.040).

A text whose every character is in the GSM 7-bit default alphabet (or its extension table, two septets each: an
escape and the character) goes as GSM-7: 160 septets in one message, 153 per segment once it must be split (the
user data header takes the rest). Any other character (an accented letter the alphabet lacks such as "á", any CJK,
Arabic or Devanagari letter, an emoji) sends the whole text as UCS-2: 70 UTF-16 code units in one message, 67 per
segment; an emoji outside the Basic Multilingual Plane is two code units. A character is never split across two
segments (an escape pair, a surrogate pair), so a segment may hold one unit fewer than the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

# The GSM 7-bit default alphabet (TS 23.038 section 6.2.1), without the escape character itself.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The default extension table (section 6.2.1.1): each costs an escape septet plus itself.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}  # (one message, each part of a split message)


@dataclass(frozen=True)
class SegmentCount:
    encoding: str
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    characters: int
    non_gsm: tuple[str, ...] = ()  # the characters that forced UCS-2, first few

    def to_dict(self) -> dict[str, object]:
        single, part = LIMITS[self.encoding]
        return {
            "encoding": self.encoding,
            "units": self.units,
            "segments": self.segments,
            "characters": self.characters,
            "single_limit": single,
            "segment_limit": part,
            "non_gsm_characters": list(self.non_gsm),
        }


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _unit_sizes(text: str, encoding: str) -> list[int]:
    """The size of each character in units: 1 or 2 (an extension character, or a surrogate pair)."""
    if encoding == GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def count(text: str) -> SegmentCount:
    encoding = GSM7 if is_gsm7(text) else UCS2
    sizes = _unit_sizes(text, encoding)
    units = sum(sizes)
    single, part = LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments, used = 1, 0
        for size in sizes:
            if used + size > part:  # this character would straddle two segments: it starts the next one
                segments += 1
                used = 0
            used += size
    non_gsm: list[str] = []
    if encoding == UCS2:
        for ch in text:
            if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION and ch not in non_gsm:
                non_gsm.append(ch)
            if len(non_gsm) == 5:
                break
    return SegmentCount(encoding, units, segments, len(text), tuple(non_gsm))
