"""PHI detection and de-identification: presidio with our own recognizers, redaction, pseudonyms, vault."""
