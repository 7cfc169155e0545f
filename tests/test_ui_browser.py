"""The side panel in a real browser (Debian's chromium) against the real server on loopback."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from assistant.api.app import create_app
from assistant.api.deps import get_ctx
from assistant.services.caller import PanelScope
from tests.helpers import free_port

pytestmark = pytest.mark.slow  # a real server, subprocesses or a knowledge index of its own


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI (make test installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed")
    return path


@pytest.fixture(scope="module")
def base_url(knowledge_ctx) -> Iterator[str]:  # type: ignore[no-untyped-def]
    app = create_app(knowledge_ctx.settings)
    app.dependency_overrides[get_ctx] = lambda: knowledge_ctx
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_ask_shows_cited_sentences_and_opens_the_exact_span(base_url: str, tmp_path, knowledge_ctx) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 440, "height": 900})
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(base_url + "/")
        page.wait_for_url("**/login")  # no session yet: the panel sends the user to sign in
        page.fill("#api-key", "ctk_wrong")
        page.click("#login-button")
        page.wait_for_selector("#error:not([hidden])")
        assert "unknown or revoked" in page.inner_text("#error")
        secret, _ = knowledge_ctx.keys.create("browser-demo", "care_manager", "demo-cm", PanelScope())
        page.fill("#api-key", secret)
        page.click("#login-button")
        page.wait_for_url(base_url + "/")
        page.wait_for_selector("#whoami:has-text('demo-cm')")
        cookie = next(c for c in page.context.cookies() if c["name"] == "caretrail_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert "admin" not in page.inner_html("#role")  # the view picker offers no access, and no admin
        page.click("a[data-nav='ask']")  # the panel opens on the worklist; questions have their own view
        page.fill("#question", "When must the TCM interactive contact happen after discharge?")
        page.click("#ask-button")
        page.wait_for_selector("#answer p sup a")
        sentences = page.locator("#answer p")
        assert sentences.count() >= 1
        assert "2 business days" in page.inner_text("#answer")
        assert page.locator("#citations li").count() >= 1
        assert page.inner_text("#audit").startswith("Audit record ")

        with page.expect_response(lambda r: "/v1/sources/" in r.url) as opened:
            page.locator("#answer p sup a").first.click()
        source = opened.value.json()
        page.wait_for_selector("#source mark")
        highlighted = page.inner_text("#source mark")
        expected = source["text"][source["highlight"]["start"] : source["highlight"]["end"]]
        assert highlighted == expected and highlighted in page.inner_text("#answer")
        page.screenshot(path=str(tmp_path / "side-panel.png"), full_page=True)
        page.keyboard.press("Escape")  # the source opens in a modal dialog; Escape gives the page back

        page.fill("#question", "What is the capital of Australia?")
        page.click("#ask-button")
        page.wait_for_selector("#answer.abstained")
        assert "outside care coordination" in page.inner_text("#answer")  # the chat declines, and says why

        page.click("#sign-out")
        page.wait_for_url("**/login")
        assert blocked == [], blocked  # the page runs under its CSP with nothing refused
        browser.close()
