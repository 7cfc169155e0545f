"""Device identifiers and serial numbers: labeled serials and FDA UDI device identifiers.

Remote-monitoring notes name the cuff, the glucometer and the pacemaker by serial; GS1 UDIs start with
"(01)" and 14 digits.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from assistant.redaction.recognizers._helpers import after_label

LABELS = (
    r"serial|s/n|sn|ser\.?|device\s*id|device|udi|imei|meid|mac|implant\s*id|model/serial|lot|"
    r"pacemaker\s*serial|transmitter|meter\s*id|monitor\s*id"
)
VALUE = r"(?=[A-Z0-9:-]*\d)[A-Z0-9][A-Z0-9:-]{4,24}[A-Z0-9](?![\w-])"
UDI = r"\(01\)\d{14}(?:\(\d{2}\)[A-Z0-9]{1,20})*"
MAC = r"(?<![\w:])(?:[0-9A-F]{2}[:-]){5}[0-9A-F]{2}(?![\w:])"


class DeviceRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="DEVICE_ID",
            name="device",
            patterns=[
                Pattern("device-labeled", after_label(LABELS, VALUE), 0.8),
                Pattern("udi", UDI, 0.9),
                Pattern("mac", MAC, 0.7),
            ],
            context=["serial", "device", "udi"],
        )


def build() -> DeviceRecognizer:
    return DeviceRecognizer()
