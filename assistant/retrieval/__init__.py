"""Hybrid retrieval (BM25 + dense, fused by reciprocal rank), always inside an explicit scope."""
