"""Connectors: one module per source format, pure readers with no storage.

Each module exposes ``FORMAT: str``, ``sniff(path, head: bytes) -> bool`` and
``parse(path, data: bytes) -> ParsedDocument``; ``connectors.registry`` picks one per file.
"""
