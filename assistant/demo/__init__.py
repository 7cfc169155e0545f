"""Deterministic synthetic demo population (FHIR R4 bundles) for demos, tests and the roster audit."""

from assistant.demo.generator import REFERENCE_DATE, DemoSummary, generate

__all__ = ["REFERENCE_DATE", "DemoSummary", "generate"]
