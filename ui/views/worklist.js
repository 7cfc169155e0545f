// The panel worklist: open guidance items across the caller's patients, nearest due date first.
import { get } from "/ui/api.js";
import { el, dueText, roleName } from "/ui/dom.js";

const RULES = {
  tcm: "TCM", cms165_gap: "Blood pressure (CMS165)", cms122_gap: "HbA1c (CMS122)", annual_wellness_visit: "AWV",
  dual_eligible: "Dual eligible", homebound: "Homebound", language_access: "Language access",
  medication_reconciliation: "Medication reconciliation", attribution: "Attribution", falls: "Falls",
  high_utilizer: "High utilizer", timely_follow_up: "Timely follow-up",
};

export const ruleName = (rule) => RULES[rule] || roleName(rule);

export async function render(view, app) {
  view.append(el("h2", {}, "Worklist"), el("p", { class: "meta" }, "Loading open items…"));
  const mine = new URLSearchParams({ limit: 100 });
  const data = await get(`/v1/worklist?${mine}`);
  const summary = Object.entries(data.counts || {}).map(([rule, n]) => `${ruleName(rule)} ${n}`).join(" · ");
  const list = el("ol", { class: "cards", "aria-label": "Open guidance items" });
  for (const item of data.items) {
    const owned = item.owner_role === app.role();
    list.append(el("li", { class: `card priority-${item.priority}${owned ? " owned" : ""}` },
      el("div", { class: "card-head" },
        el("a", { href: `#/patient/${encodeURIComponent(item.patient_id)}`, class: "patient-link" },
          app.nameOf(item.patient_id)),
        el("span", { class: `pill ${item.priority}` }, `${item.priority} priority`)),
      el("p", {}, item.action),
      el("p", { class: "meta" }, `${ruleName(item.rule)} · ${roleName(item.owner_role)} · ${dueText(item.due)}`)));
  }
  view.replaceChildren(
    el("h2", {}, "Worklist"),
    el("p", { class: "meta" }, `${data.total} open items across your panel, as of ${data.as_of}. ${summary}`),
    data.items.length ? list : el("p", {}, "Nothing open on your panel today."),
    el("p", { class: "audit" }, `Audit record ${data.audit_id}`),
  );
}
