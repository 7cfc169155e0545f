// One patient: the header (name, age, preferred language, badges) and the patient's tabs.
import { get } from "/ui/api.js";
import { el, age, languageName } from "/ui/dom.js";
import * as guidance from "/ui/views/guidance.js";
import * as chat from "/ui/views/chat.js";
import * as transitions from "/ui/views/transitions.js";
import * as outreach from "/ui/views/outreach.js";

const TABS = [
  ["guidance", "Guidance"],
  ["ask", "Ask"],
  ["checklist", "Checklist"],
  ["outreach", "Outreach"],
];

// Badges come from the patient's own guidance items, so each one rests on cited evidence the cards show.
export function badges(items) {
  const found = [];
  const dual = items.find((i) => i.rule === "dual_eligible"
    && i.evidence.some((e) => /dual status (full|partial)/.test(e.reason || "")));
  if (dual) {
    const kind = dual.evidence.map((e) => (e.reason || "").match(/dual status (full|partial)/)).find(Boolean)[1];
    found.push({ key: "dual", text: `Dual (${kind})`, title: dual.rationale });
  }
  const homebound = items.find((i) => i.rule === "homebound");
  if (homebound) found.push({ key: "homebound", text: "Homebound", title: homebound.rationale });
  const risky = items.find((i) => i.rule === "high_utilizer");
  if (risky) found.push({ key: "high-risk", text: "High risk", title: risky.rationale });
  return found;
}

function header(patient, items) {
  const years = age(patient.birth_date);
  const facts = [
    years === null ? "age not recorded" : `${years} years`,
    patient.sex || null,
    patient.language ? `prefers ${languageName(patient.language)}` : "preferred language not recorded",
  ].filter(Boolean).join(" · ");
  const list = el("ul", { class: "badges", "aria-label": "Flags" },
    badges(items).map((b) => el("li", { class: `badge ${b.key}`, title: b.title }, b.text)));
  return el("section", { class: "patient-header", "aria-label": "Patient" },
    el("h2", { id: "patient-name" }, patient.name),
    el("p", { class: "meta", id: "patient-facts" }, facts),
    list);
}

export async function render(view, app, ref, tab, extra) {
  if (!ref) throw new Error("no patient in the address");
  const here = TABS.some(([key]) => key === tab) ? tab : "guidance";
  const [record, advice] = await Promise.all([
    get(`/v1/patients/${encodeURIComponent(ref)}`),
    get(`/v1/patients/${encodeURIComponent(ref)}/guidance?${new URLSearchParams({ role: app.role() })}`),
  ]);
  const patient = record.patient;
  app.names.set(patient.id, patient.name);
  const tabs = el("nav", { "aria-label": "Patient views" }, el("ul", { class: "tabs sub" }, TABS.map(([key, label]) =>
    el("li", {}, el("a", {
      href: `#/patient/${encodeURIComponent(patient.id)}/${key}`,
      "aria-current": key === here ? "page" : null,
    }, label)))));
  const body = el("div", { class: "patient-body" });
  view.replaceChildren(header(patient, advice.items), tabs, body);
  if (here === "guidance") guidance.render(body, app, patient, advice);
  else if (here === "ask") await chat.render(body, app, patient);
  else if (here === "checklist") await transitions.renderChecklist(body, app, patient, extra);
  else await outreach.renderForm(body, app, patient);
}
