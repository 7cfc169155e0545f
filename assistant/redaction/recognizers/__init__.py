"""One recognizer per file. Each public module exposes ``build() -> EntityRecognizer``; see ``registry``."""
