"""FastAPI application: routes are discovered from ``assistant/api/routes``; the side panel is static."""

from __future__ import annotations

import importlib
import logging
import pkgutil

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

import assistant
from assistant.api import routes
from assistant.errors import CaretrailError
from assistant.settings import REPO_ROOT

UI_DIR = REPO_ROOT / "ui"
log = logging.getLogger("caretrail.api")


def create_app() -> FastAPI:
    app = FastAPI(
        title="Caretrail",
        version=assistant.__version__,
        description="Cited, PHI-safe care-coordination assistant for LEAD ACOs. Every answer is audited.",
    )

    @app.exception_handler(CaretrailError)
    async def _caretrail_error(_request: Request, exc: CaretrailError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": str(exc)})

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

        @app.get("/", include_in_schema=False)
        def _index() -> FileResponse:
            return FileResponse(UI_DIR / "index.html")

    return app
