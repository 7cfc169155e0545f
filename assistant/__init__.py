"""Caretrail: a cited, PHI-safe care-coordination assistant for LEAD ACOs."""

from assistant import offline as _offline  # noqa: F401  (sets offline env before any ML import)

__version__ = "0.1.0"
