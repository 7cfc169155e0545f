"""Quality measures (CMS165, CMS122): Caretrail's own engine and the stewards' reference engine to check it."""
