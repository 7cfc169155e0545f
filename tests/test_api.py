"""The HTTP API on the real app: the ask contract, opening citations, clear errors, and a fuzzed schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.deps import get_ctx


@pytest.fixture(scope="module")
def client(knowledge_ctx):  # type: ignore[no-untyped-def]
    app = create_app()
    app.dependency_overrides[get_ctx] = lambda: knowledge_ctx
    with TestClient(app) as test_client:
        yield test_client


def test_health_and_docs(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["knowledge_documents"] >= 14
    assert client.get("/docs").status_code == 200
    assert "/v1/ask" in client.get("/openapi.json").json()["paths"]


def test_ask_contract_and_citation_opens(client: TestClient) -> None:
    response = client.post(
        "/v1/ask",
        json={"question": "Which four claims-based quality measures carry over into LEAD?", "patient_id": None},
        headers={"X-Caretrail-User": "cm-1", "X-Caretrail-Role": "care_manager"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schema"] == "caretrail.ask/1"
    assert not body["abstained"] and body["sentences"] and body["audit_id"]
    citation = body["citations"][0]
    for key in ("n", "doc_id", "title", "section", "start", "end", "sha256", "quote", "source_uri"):
        assert key in citation
    span = {"start": citation["start"], "end": citation["end"]}
    opened = client.get(f"/v1/sources/{citation['chunk_id']}", params=span)
    assert opened.status_code == 200
    source = opened.json()
    highlight = source["text"][source["highlight"]["start"] : source["highlight"]["end"]]
    assert highlight == citation["quote"]


def test_bad_requests_get_clear_errors(client: TestClient) -> None:
    assert client.post("/v1/ask", json={"question": ""}).status_code == 422
    assert client.post("/v1/ask", json={}).status_code == 422
    bad_role = client.post("/v1/ask", json={"question": "What is TCM?", "role": "wizard"})
    assert bad_role.status_code == 400 and "unknown role" in bad_role.json()["detail"]
    assert client.get("/v1/sources/no-such-chunk").status_code == 404


def test_openapi_fuzz_never_returns_5xx(client: TestClient) -> None:
    """schemathesis generates requests from our own OpenAPI spec; none may crash the server."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/v1/ask" for op in operations)
    for operation in operations:

        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            assert response.status_code < 500, (case.operation.path, response.status_code, response.text[:200])

        check()
