"""The languages outreach templates are written in, how the record names them, and how each is written.

Why these fifteen: the issue asks for the languages most spoken by people with limited English proficiency in the
US. Our facts file (LEAD_FACTS.md section 7, knowledge/language-access.md) has the older Census order of non-English
home languages (Spanish, Chinese, French, German, Tagalog, Vietnamese, Italian, Korean, Russian, Polish) and says the
ranking among LEP Medicare beneficiaries is unconfirmed, so the list is the issue's: Spanish, Chinese in simplified
and traditional characters, Vietnamese, Tagalog, Korean, Russian, Arabic, Haitian Creole, French, Portuguese, Polish,
Japanese, Hindi and German. An ACO should reorder by its own panel's recorded languages (the knowledge file says so).

``Patient.language`` holds a BCP-47 primary tag (``zh``), which does not say which Chinese script a patient reads:
``zh`` maps to simplified characters with a visible note, and ``--language zh-Hant`` picks traditional.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.fhir import LANGUAGE_NAMES

ENGLISH = "en"


@dataclass(frozen=True)
class Language:
    code: str  # the template file's name: BCP-47, with a script subtag for Chinese
    name: str  # English name, for notes and translation prompts
    native: str
    direction: str = "ltr"  # "rtl" for Arabic
    script: str = "latin"  # which font family a letter needs: latin, cjk-sc, cjk-tc, cjk-jp, cjk-kr, arabic, devanagari
    textstat: str | None = None  # the textstat language for a readability score of the text itself, where it has one


LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (
    Language("en", "English", "English", textstat="en"),
    Language("es", "Spanish", "Español", textstat="es"),
    Language("zh-Hans", "Chinese (simplified)", "简体中文", script="cjk-sc"),
    Language("zh-Hant", "Chinese (traditional)", "繁體中文", script="cjk-tc"),
    Language("vi", "Vietnamese", "Tiếng Việt"),
    Language("tl", "Tagalog", "Tagalog"),
    Language("ko", "Korean", "한국어", script="cjk-kr"),
    Language("ru", "Russian", "Русский"),
    Language("ar", "Arabic", "العربية", direction="rtl", script="arabic"),
    Language("ht", "Haitian Creole", "Kreyòl ayisyen"),
    Language("fr", "French", "Français"),
    Language("pt", "Portuguese", "Português"),
    Language("pl", "Polish", "Polski"),
    Language("ja", "Japanese", "日本語", script="cjk-jp"),
    Language("hi", "Hindi", "हिन्दी", script="devanagari"),
    Language("de", "German", "Deutsch"),
)}  # fmt: skip

# What a record's primary tag means when it does not name a template file by itself.
RECORD_TAGS = {"zh": "zh-Hans", "fil": "tl"}
_ALIASES = {"zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant",
            "zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}  # fmt: skip


def normalize(tag: str) -> str:
    """``ES`` -> ``es``, ``zh-tw`` -> ``zh-Hant``, ``zh`` -> ``zh-Hans``; an unknown tag comes back lower-cased."""
    value = tag.strip().replace("_", "-")
    lowered = value.lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    if lowered in RECORD_TAGS:
        return RECORD_TAGS[lowered]
    for code in LANGUAGES:
        if code.lower() == lowered:
            return code
    return lowered


def language(code: str) -> Language:
    """The language for a code; one we have no templates for still has a name for notes and prompts."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    name = next((n.title() for n, c in LANGUAGE_NAMES.items() if c == code), code)
    return Language(code, name, name)
