"""Citation spans and the verifier that keeps unsupported sentences out of answers."""
