"""Vehicle identifiers: 17-character VINs (validated by their check digit) and labeled license plates."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

VIN = r"(?<![\w-])(?=[A-HJ-NPR-Z0-9]*\d)[A-HJ-NPR-Z0-9]{17}(?![\w-])"
PLATE = after_label(
    r"licen[cs]e\s*plate|plate|tag|vehicle|vin|registration\s*plate",
    r"(?=[A-Z0-9 -]*\d)[A-Z0-9][A-Z0-9 -]{1,10}[A-Z0-9](?![\w-])"
)
_VALUES = {**{str(i): i for i in range(10)}}
_VALUES.update(dict(zip("ABCDEFGH", range(1, 9), strict=True)))
_VALUES.update(dict(zip("JKLMN", range(1, 6), strict=True)))
_VALUES.update({"P": 7, "R": 9})
_VALUES.update(dict(zip("STUVWXYZ", range(2, 10), strict=True)))
_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def vin_ok(vin: str) -> bool:
    vin = vin.upper()
    if len(vin) != 17 or any(c not in _VALUES for c in vin):
        return False
    total = sum(_VALUES[c] * w for c, w in zip(vin, _WEIGHTS, strict=True)) % 11
    return vin[8] == ("X" if total == 10 else str(total))


class VehicleRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="VEHICLE_ID",
            name="vehicle",
            patterns=[Pattern("vin", VIN, 0.5), Pattern("plate", PLATE, 0.8)],
            context=["vin", "vehicle", "plate", "car"],
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        if len(pattern_text) == 17 and " " not in pattern_text:
            return vin_ok(pattern_text)
        return None


def build() -> VehicleRecognizer:
    return VehicleRecognizer()
