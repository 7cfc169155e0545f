"""Model backends, reachable only through ``guard.GuardedLLM`` (the PHI boundary)."""
