"""The side panel's views in a real browser: Playwright driving Debian's chromium against Caretrail on loopback.

One world for the module: a fake EHR and Caretrail (``tests/fake_ehr.py``) on their own ports, Caretrail's data dir
holding the knowledge base and a small demo panel assigned to the demo care manager, whose key is made the way
``caretrail setup`` makes it. The tests sign in with that key, open a patient from the worklist, accept a guidance
card, ask and open a citation at its exact span, check off a checklist item and download the PDF, approve a
Spanish draft, read the measure report, and open the panel from a SMART launch. Every view is scanned with axe-core
(``tools/axe``, pinned by its lockfile) in both themes, and must have no serious or critical violation; each view
is saved at 400 px and at 1280 px under ``docs/screenshots/`` for the README. Nothing the page runs may be refused
by its Content-Security-Policy.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.audit.tables import AuditRow
from assistant.settings import REPO_ROOT, EhrSystem
from tests.fake_ehr import FakeEhr, World, chart, running

pytestmark = pytest.mark.slow  # two servers on loopback, a knowledge index and a demo panel of its own

AXE = REPO_ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO_ROOT / "docs" / "screenshots"
WIDTHS = {"400": {"width": 400, "height": 860}, "1280": {"width": 1280, "height": 860}}
DEMO_PATIENTS = 16
EHR_PATIENT, NPI = "1288992", "1234567893"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


def _required(what: str, hint: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI ({hint})")
    pytest.skip(f"{what} is not installed ({hint})")


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _required("Debian's chromium", "make test installs it")
    return str(path)


def _stock(ehr: FakeEhr) -> EhrSystem:
    ehr.add(*chart(EHR_PATIENT, "example", NPI, "1EG4TE5MK73", date.today()))
    return EhrSystem(
        name="fake-ehr",
        fhir_base_url=ehr.fhir,
        smart_client_id=ehr.client_id,
        users={"Practitioner/example": "dr-example"},
        roles={"dr-example": "care_coordinator"},
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    """Caretrail with the knowledge base and the demo panel, beside a fake EHR; yields (world, demo key)."""
    if not AXE.is_file():
        _required("axe-core", "run `make axe` (npm ci in tools/axe)")
    from assistant.cli.setup import DEMO_SEED, DEMO_USER, _rotate_demo_key
    from assistant.demo.generator import generate
    from assistant.index.knowledge import ingest_knowledge
    from assistant.ingest.pipeline import ingest_paths
    from assistant.services.updates import records_changed

    root = tmp_path_factory.mktemp("panel")
    keys: list[str] = []

    def prepare(ctx: Any) -> None:
        assert not ingest_knowledge(ctx.knowledge_deps).errors
        generate(DEMO_PATIENTS, DEMO_SEED, root / "demo")
        summary = ingest_paths(ctx.ingest_deps, [root / "demo"])
        assert summary.errors == []
        assert records_changed(ctx, summary.patient_ids) is None
        ctx.patients.assign_panel(DEMO_USER, sorted(summary.patient_ids))
        ctx.patients.link_npi("dr-example", NPI)
        keys.append(_rotate_demo_key(ctx))

    with pytest.MonkeyPatch.context() as env:  # every message names the organization and a number to call back
        env.setenv("CARETRAIL_OUTREACH_ORG_NAME", "Lakeview ACO")
        env.setenv("CARETRAIL_OUTREACH_CALLBACK_NUMBER", "(508) 555-0100")
        with running(root / "data", _stock, prepare) as started:
            yield started, keys[0]


@pytest.fixture(scope="module")
def browser(world: tuple[World, str]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Panel:
    """One browser context at one width: its page, what the CSP refused, and the axe and screenshot helpers."""

    def __init__(self, browser: Any, base: str, width: str, theme: str = "light") -> None:
        self.base, self.width = base, width
        self.context = browser.new_context(viewport=WIDTHS[width], accept_downloads=True, color_scheme=theme)
        self.context.add_init_script(path=str(AXE))  # as a DevTools script: the page's own CSP still holds
        self.page = self.context.new_page()
        self.refused: list[str] = []
        self.page.on("console", lambda m: self.refused.append(m.text) if "Content Security Policy" in m.text else None)
        self.page.on("pageerror", lambda e: self.refused.append(f"script error: {e}"))

    def sign_in(self, key: str) -> None:
        self.page.goto(self.base + "/")
        self.page.wait_for_url("**/login**")
        self.page.fill("#api-key", key)
        self.page.click("#login-button")
        self.page.wait_for_selector("body[data-ready]")

    def go(self, route: str, ready: str) -> None:
        self.page.goto(f"{self.base}/#/{route}")
        self.page.wait_for_selector(ready)

    def scan(self, view: str) -> None:
        """axe-core over the whole page: no serious or critical violation."""
        found = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target).slice(0, 3)}))"
        )
        bad = [v for v in found if v["impact"] in ("serious", "critical")]
        assert bad == [], f"{view} at {self.width} px: {bad}"

    def shoot(self, view: str) -> None:
        """The viewport as a 64-colour PNG: a third of the size, and still sharp for a UI of flat colours."""
        from PIL import Image

        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = Image.open(io.BytesIO(self.page.screenshot())).convert("RGB")
        shot.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(
            SHOTS / f"{view}-{self.width}.png", optimize=True
        )

    def check(self, view: str, shoot: bool = True) -> None:
        self.scan(view)
        wide, room = self.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert wide <= room, f"{view} scrolls sideways at {self.width} px ({wide} > {room})"
        if shoot:
            self.shoot(view)

    def close(self) -> None:
        assert self.refused == [], self.refused  # nothing the page runs is refused by its CSP, no script fails
        self.context.close()


def _audit(world: World, event: str) -> list[AuditRow]:
    with Session(world.ctx.engine) as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.event == event).order_by(AuditRow.seq)))


def _spanish_patient(world: World) -> str:
    rows = world.ctx.patients.list_patients(limit=1000)
    spanish = [r.id for r in rows if r.language == "es" and r.given]
    assert spanish, "the demo panel has a Spanish-speaking patient"
    return spanish[0]


def test_care_manager_works_the_panel_at_400_px(world: tuple[World, str], browser: Any) -> None:
    started, key = world
    panel = Panel(browser, started.url, "400")
    page = panel.page
    page.goto(started.url + "/")
    page.wait_for_url("**/login**")
    page.fill("#api-key", "ctk_wrong")
    page.click("#login-button")
    page.wait_for_selector("#error:not([hidden])")
    assert "unknown or revoked" in page.inner_text("#error")
    panel.check("login")
    page.fill("#api-key", key)
    page.click("#login-button")
    page.wait_for_selector("body[data-ready]")
    assert "demo-cm" in page.inner_text("#whoami")

    # The worklist, then a patient opened from it.
    page.wait_for_selector("ol.cards li .patient-link")
    panel.check("worklist")
    name = page.locator("ol.cards li .patient-link").first.inner_text()
    page.keyboard.press("Tab")  # by keyboard: the skip link, then the view, then its first patient
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "view"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == name
    page.keyboard.press("Enter")
    page.wait_for_selector("#patient-name")
    assert page.inner_text("#patient-name") == name
    facts = page.inner_text("#patient-facts")
    assert "years" in facts and "prefer" in facts  # age and preferred language (or that none is recorded)
    page.wait_for_selector("li.card[data-status='open'] button.accept")
    panel.check("patient")

    # Accept a guidance card: the card says so and the decision is in the audit log.
    card = page.locator("li.card[data-status='open']").first
    item_id = card.get_attribute("data-item")
    assert card.locator(".owner").inner_text().startswith("Owner: ")
    card.locator("button.accept").click()
    page.wait_for_selector(f"li.card[data-item='{item_id}'][data-status='accepted']")
    decision = _audit(started, "guidance.decision")[-1]
    assert decision.payload["item_id"] == item_id and decision.payload["status"] == "accepted"
    # Dismissing needs a reason: the panel asks for one before anything is sent.
    other = page.locator("li.card[data-status='open']").first
    before = len(_audit(started, "guidance.decision"))
    other.locator("button", has_text="Dismiss").click()
    assert other.locator("textarea[aria-invalid='true']").count() == 1
    assert len(_audit(started, "guidance.decision")) == before
    other_id = other.get_attribute("data-item")
    other.locator("textarea").fill("Patient declined; the daughter will call back")
    other.locator("button", has_text="Dismiss").click()
    page.wait_for_selector(f"li.card[data-item='{other_id}'][data-status='dismissed']")
    dismissed = _audit(started, "guidance.decision")[-1].payload
    assert dismissed["item_id"] == other_id and dismissed["reason"] == "Patient declined; the daughter will call back"

    # Chat about this patient: the answer streams in as server-sent events and links to the patient's own view.
    page.click("nav[aria-label='Patient views'] a:has-text('Ask')")
    page.fill("#question", "What are the next steps for this patient?")
    with page.expect_response(lambda r: r.url.endswith("/messages")) as streamed:
        page.click("#ask-button")
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    page.wait_for_selector("#audit:has-text('Audit record')")
    assert page.inner_text("#asked") == "What are the next steps for this patient?"
    assert page.locator("#answer a[href$='/guidance']").count() == 1
    turn = _audit(started, "chat.turn")[-1]
    assert turn.payload["routing"]["intent"]["intent"] == "next_steps"

    # Ask, then open a citation: the dialog marks exactly the span the API returns for it.
    panel.go("ask", "#question")
    page.fill("#question", "When must the TCM interactive contact happen after discharge?")
    page.click("#ask-button")
    page.wait_for_selector("#answer p sup a")
    assert "2 business days" in page.inner_text("#answer")
    with page.expect_response(lambda r: "/v1/sources/" in r.url) as opened:
        page.locator("#answer p sup a").first.click()
    source = opened.value.json()
    page.wait_for_selector("#source[open] mark")
    marked = page.inner_text("#source mark")
    assert marked == source["text"][source["highlight"]["start"] : source["highlight"]["end"]]
    assert marked and marked in page.inner_text("#answer")
    panel.check("ask")
    page.keyboard.press("Escape")  # the dialog closes from the keyboard and gives focus back to the citation
    page.wait_for_selector("#source:not([open])", state="attached")
    assert page.evaluate("document.activeElement.dataset.n") is not None

    # The transitions worklist, a discharge's checklist, check off an item, download the PDF.
    panel.go("transitions", "ol.cards li .patient-link")
    panel.check("transitions")
    page.locator("ol.cards li .patient-link").first.click()
    page.wait_for_selector("ol.checklist input[type='checkbox']")
    panel.check("checklist")
    box = page.locator("ol.checklist input[type='checkbox']:not(:checked)").first
    item = box.get_attribute("data-item")
    box.check()
    page.wait_for_selector(f"li.check-item.status-done[data-item='{item}'] input:checked")
    acted = _audit(started, "transitions.item")[-1]
    assert acted.payload["item_id"] == item and acted.payload["action"] == "check"
    with page.expect_download() as download:
        page.click("text=Download the checklist (PDF)")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    # A Spanish draft, side by side with its English text; approve it.
    spanish = _spanish_patient(started)
    panel.go(f"patient/{spanish}/outreach", "#draft-form")
    assert page.input_value("#language") == "es"
    page.select_option("#purpose", "care_team_intro")
    page.click("#draft-button")
    page.wait_for_selector("#draft-text[lang='es']")
    assert page.inner_text("#draft-english").strip() and page.inner_text("#draft-text") != page.inner_text(
        "#draft-english"
    )
    assert "reading grade" in page.inner_text("#draft") and "SMS segment" in page.inner_text("#draft")
    panel.check("outreach")
    page.click("#approve-button")
    page.wait_for_selector("#draft-status:has-text('approved')")
    approved = _audit(started, "outreach.approve")[-1]
    assert approved.patient_id == spanish

    # The measure report and its charts.
    panel.go("measures", "section.measure svg.chart")
    assert page.locator("section.measure").count() >= 2
    panel.check("measures")
    page.locator("section.measure details summary", has_text="Open gaps").first.click()
    with page.expect_response(lambda r: "/v1/sources/record" in r.url) as gap_record:
        page.locator("ul.gaps a.cite").first.click()
    assert gap_record.value.ok
    page.wait_for_selector("#source[open] mark")
    page.keyboard.press("Escape")
    panel.close()


def test_every_view_at_full_width_and_in_the_dark_theme(world: tuple[World, str], browser: Any) -> None:
    started, key = world
    spanish = _spanish_patient(started)
    for theme in ("light", "dark"):
        panel = Panel(browser, started.url, "1280", theme)
        panel.sign_in(key)
        assert panel.page.evaluate("document.documentElement.dataset.theme") == theme
        shoot = theme == "light"
        panel.page.wait_for_selector("ol.cards li .patient-link")
        panel.check("worklist", shoot)
        panel.go(f"patient/{spanish}", "#patient-name")
        panel.page.wait_for_selector("li.card")
        panel.check("patient", shoot)
        panel.go("transitions", "ol.cards li .patient-link")
        panel.check("transitions", shoot)
        panel.page.locator("ol.cards li .patient-link").first.click()
        panel.page.wait_for_selector("ol.checklist input[type='checkbox']")
        panel.check("checklist", shoot)
        panel.go("measures", "section.measure svg.chart")
        panel.check("measures", shoot)
        panel.go(f"patient/{spanish}/outreach", "#draft-form")
        panel.page.select_option("#purpose", "care_team_intro")
        panel.page.click("#draft-button")
        panel.page.wait_for_selector("#approve-button")
        panel.check("outreach", shoot)
        panel.go("ask", "#question")
        panel.page.fill("#question", "When must the TCM interactive contact happen after discharge?")
        panel.page.click("#ask-button")
        panel.page.locator("#answer p sup a").first.click()
        panel.page.wait_for_selector("#source[open] mark")
        panel.check("ask", shoot)
        panel.page.keyboard.press("Escape")
        # The theme toggle switches and is remembered for the next page.
        panel.page.click("#theme")
        flipped = "dark" if theme == "light" else "light"
        assert panel.page.evaluate("document.documentElement.dataset.theme") == flipped
        panel.page.reload()
        panel.page.wait_for_selector("body[data-ready]")
        assert panel.page.evaluate("document.documentElement.dataset.theme") == flipped
        panel.close()


def test_a_smart_launch_opens_the_panel_on_the_launched_patient(world: tuple[World, str], browser: Any) -> None:
    started, _ = world
    started.ehr.user = "Practitioner/example"
    started.ehr.launches["ui-launch"] = {"patient": EHR_PATIENT}
    panel = Panel(browser, started.url, "400")
    page = panel.page
    page.goto(f"{started.url}/smart/launch?iss={started.ehr.fhir}&launch=ui-launch")  # the EHR opens the panel
    page.wait_for_selector("#patient-name")
    patient_id = started.ctx.patients.find_patient_ids(f"fhir|{EHR_PATIENT}")[0]
    assert page.url == f"{started.url}/#/patient/{patient_id}"
    assert page.inner_text("#patient-name").lower() == "wade watts"
    assert "dr-example" in page.inner_text("#whoami") and "care coordinator" in page.inner_text("#whoami")
    page.wait_for_selector("li.card")
    assert page.locator("li.card").count() >= 1  # the launched patient's guidance, computed from the EHR's chart
    panel.check("smart-launch")
    panel.close()
