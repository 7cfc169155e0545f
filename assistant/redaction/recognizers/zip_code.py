"""ZIP codes. Five digits are everywhere in notes (lab values, counts), so a state or a "ZIP" label decides."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND"
    "|OH|OK|OR|PA|PR|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
STATE_NAMES = (
    r"Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho"
    r"|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota"
    r"|Mississippi|Missouri|Montana|Nebraska|Nevada|New\s+Hampshire|New\s+Jersey|New\s+Mexico|New\s+York"
    r"|North\s+Carolina|North\s+Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode\s+Island|South\s+Carolina"
    r"|South\s+Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West\s+Virginia|Wisconsin|Wyoming"
)
ZIP = r"\d{5}(?:-\d{4})?(?![\w-])"
AFTER_STATE = rf"(?<=\b(?-i:{STATES})\.?,?\s{{1,3}}|\b(?:{STATE_NAMES}),?\s{{1,3}}){ZIP}"
LABELED = after_label(r"zip|zip\s*code|postal\s*code|zipcode", ZIP)


class ZipCodeRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="ZIP",
            name="zip_code",
            patterns=[Pattern("zip-after-state", AFTER_STATE, 0.9), Pattern("zip-labeled", LABELED, 0.9)],
            context=["zip", "postal"],
        )


def build() -> ZipCodeRecognizer:
    return ZipCodeRecognizer()
