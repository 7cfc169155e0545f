"""IPv4 and IPv6 addresses, validated by the standard library rather than by regex alone."""

from __future__ import annotations

import ipaddress

from presidio_analyzer import Pattern, PatternRecognizer

V4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)"
V6 = r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4})*(?![\w:])"


class IpAddressRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="IP_ADDRESS",
            name="ip_address",
            patterns=[Pattern("ipv4", V4, 0.6), Pattern("ipv6", V6, 0.6)],
            context=["ip", "address", "host", "login", "device"],
        )

    def validate_result(self, pattern_text: str) -> bool:
        try:
            address = ipaddress.ip_address(pattern_text)
        except ValueError:
            return False
        # "10:30:00"-style times are not IPv6 addresses worth flagging; require a real v6 shape.
        return address.version == 4 or pattern_text.count(":") >= 3


def build() -> IpAddressRecognizer:
    return IpAddressRecognizer()
