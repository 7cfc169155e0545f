"""Patient-record ingest: detect, parse, store and index, one document per transaction."""
