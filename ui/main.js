// Caretrail side panel: hash routing over plain ES modules, one module per view; every view calls the JSON API.
import { session, signOut, get } from "/ui/api.js";
import { $, el, roleName, showError } from "/ui/dom.js";
import { installSourceDialog } from "/ui/source.js";
import { applyTheme, toggleTheme } from "/ui/theme.js";
import * as worklist from "/ui/views/worklist.js";
import * as patient from "/ui/views/patient.js";
import * as transitions from "/ui/views/transitions.js";
import * as measures from "/ui/views/measures.js";
import * as chat from "/ui/views/chat.js";
import * as outreach from "/ui/views/outreach.js";

applyTheme();

const names = new Map(); // patient id -> name, from the caller's panel list (itself an audited read)
const app = {
  me: null,
  names,
  role: () => $("role").value,
  nameOf: (id) => names.get(id) || id,
};

// "#/patient/pt-1/checklist" -> ["patient", "pt-1", "checklist"]
function route() {
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length) return parts;
  return [app.me && app.me.role === "analyst" ? "measures" : "worklist"]; // analysts see counts, not patients
}

const VIEWS = {
  worklist: (parts, view) => worklist.render(view, app),
  transitions: (parts, view) => transitions.renderList(view, app),
  measures: (parts, view) => measures.render(view, app),
  ask: (parts, view) => chat.render(view, app, null),
  patient: (parts, view) => patient.render(view, app, parts[1], parts[2] || "guidance", parts[3]),
  draft: (parts, view) => outreach.renderDraft(view, app, parts[1]),
};

let rendering = 0;
async function show() {
  const parts = route();
  const name = VIEWS[parts[0]] ? parts[0] : "worklist";
  for (const link of document.querySelectorAll("[data-nav]")) {
    const here = link.dataset.nav === name || (name === "patient" && link.dataset.nav === "worklist");
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  showError("");
  const view = $("view");
  const mine = ++rendering;
  const fresh = el("div", { class: "view" });
  view.replaceChildren(fresh);
  try {
    await VIEWS[name](parts, fresh);
  } catch (error) {
    if (mine === rendering) showError(error.message || String(error));
  }
}

async function start() {
  // A SMART launch ends on /?patient=<id>: open that patient's view (and drop the query from the address).
  const launched = new URLSearchParams(window.location.search).get("patient");
  if (launched) {
    window.history.replaceState(null, "", "/#/patient/" + encodeURIComponent(launched));
  }
  const me = await session();
  if (!me) return;
  app.me = me;
  $("whoami").textContent = `Signed in as ${me.user} (${roleName(me.role)}), panel: ${me.panel}`;
  const picker = $("role");
  if ([...picker.options].some((o) => o.value === me.role)) picker.value = me.role;
  try {
    const panel = await get("/v1/patients?limit=1000");
    for (const p of panel.patients) names.set(p.id, p.name);
  } catch {
    // roles without panel.read (analysts) have no names to show; views say what they cannot read
  }
  $("theme").addEventListener("click", toggleTheme);
  $("sign-out").addEventListener("click", signOut);
  picker.addEventListener("change", show);
  installSourceDialog();
  // The skip link moves focus to the view (the address's hash is the route, so it must not change it).
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    $("view").focus();
  });
  window.addEventListener("hashchange", () => { show(); $("view").focus({ preventScroll: true }); });
  await show();
  document.body.dataset.ready = "true";
}

start();
