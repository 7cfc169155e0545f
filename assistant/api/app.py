"""FastAPI application: routes are discovered from ``assistant/api/routes``; the side panel is static.

Every route declares its access rule (``assistant.api.deps``); responses carry the security headers
(``assistant.api.hardening``); request bodies are capped by FastAPI's ``max_body_size``.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

import assistant
from assistant.api import routes
from assistant.api.deps import public
from assistant.api.hardening import SecurityHeaders
from assistant.errors import CaretrailError, TooManyRequests, Unauthenticated
from assistant.settings import REPO_ROOT, Settings

UI_DIR = REPO_ROOT / "ui"
log = logging.getLogger("caretrail.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    docs = settings.api_docs
    app = FastAPI(
        title="Caretrail",
        version=assistant.__version__,
        description="Cited, PHI-safe care-coordination assistant for LEAD ACOs. Every answer is audited. "
        "Authenticate with `Authorization: Bearer <API key or OIDC token>` or the side panel's session.",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        max_body_size=settings.max_request_bytes,
    )

    @app.exception_handler(CaretrailError)
    async def _caretrail_error(_request: Request, exc: CaretrailError) -> JSONResponse:
        headers = {}
        if isinstance(exc, Unauthenticated):
            headers["WWW-Authenticate"] = 'Bearer realm="caretrail"'
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = "60"
        return JSONResponse(status_code=exc.status_code, content={"detail": str(exc)}, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # The server stays up and says nothing that could carry PHI; the log keeps the type.
        log.error("unhandled %s", type(exc).__name__)
        return JSONResponse(status_code=500, content={"detail": f"internal error ({type(exc).__name__})"})

    for module_info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"{routes.__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)

    if UI_DIR.is_dir():
        app.mount("/ui", StaticFiles(directory=UI_DIR), name="ui")

        @app.get("/", include_in_schema=False, dependencies=[Depends(public)])
        def _index() -> FileResponse:
            return FileResponse(UI_DIR / "index.html")

        @app.get("/login", include_in_schema=False, dependencies=[Depends(public)])
        def _login() -> FileResponse:
            return FileResponse(UI_DIR / "login.html")

    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
    return app
