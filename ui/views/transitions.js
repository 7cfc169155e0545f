// Transitions: the worklist of discharges on the panel, and one discharge's checklist with check-off and the PDF.
import { get, post } from "/ui/api.js";
import { el, busy, dueText, roleName, showError } from "/ui/dom.js";
import { citationList } from "/ui/source.js";

export async function renderList(view, app) {
  const data = await get("/v1/transitions?limit=100");
  const list = el("ol", { class: "cards", "aria-label": "Open discharges" }, data.episodes.map((e) =>
    el("li", { class: "card" },
      el("div", { class: "card-head" },
        el("a", {
          href: `#/patient/${encodeURIComponent(e.patient_id)}/checklist/${encodeURIComponent(e.episode_id)}`,
          class: "patient-link",
        }, e.name || app.nameOf(e.patient_id)),
        el("span", { class: `pill ${e.overdue_items ? "high" : "low"}` },
          e.overdue_items ? `${e.overdue_items} overdue` : `${e.open_items} open`)),
      el("p", {}, `Discharged ${e.discharge_date}${e.facility ? " from " + e.facility : ""} · ${e.complexity} complexity`),
      e.next_text ? el("p", { class: "meta" }, `Next: ${e.next_text}`) : null)));
  view.append(
    el("h2", {}, "Transitions"),
    el("p", { class: "meta" }, `${data.total} open discharges on your panel, as of ${data.as_of}.`),
    data.episodes.length ? list : el("p", {}, "No open discharges."),
    el("p", { class: "audit" }, `Audit record ${data.audit_id}`),
  );
}

function itemRow(item, checklist, refresh) {
  const id = `item-${item.id}`;
  const done = item.status === "done" || item.status === "late"; // late: done after its deadline
  const box = el("input", { type: "checkbox", id, checked: done, "data-item": item.id });
  const status = el("span", { class: `pill status-${item.status}` }, item.status);
  box.addEventListener("change", async () => {
    await busy(box, async () => {
      try {
        const changed = await post(
          `/v1/transitions/${encodeURIComponent(checklist.episode_id)}/items/${encodeURIComponent(item.id)}`,
          { action: box.checked ? "check" : "reopen" });
        refresh(changed);
      } catch (error) {
        box.checked = !box.checked;
        showError(error.message);
      }
    });
  });
  return el("li", { class: `check-item status-${item.status}`, "data-item": item.id },
    el("div", { class: "check-row" }, box, el("label", { for: id }, item.text)),
    el("p", { class: "meta" },
      `${roleName(item.owner_role)} · ${dueText(item.due)}${item.required ? "" : " · optional"} · `, status),
    citationList(item.citations));
}

export async function renderChecklist(view, app, patient, episode) {
  const params = new URLSearchParams();
  if (episode) params.set("encounter", episode);
  let checklist;
  try {
    checklist = await get(`/v1/checklists/${encodeURIComponent(patient.id)}?${params}`);
  } catch (error) {
    if (error.status === 404) {
      view.append(el("p", {}, error.message));
      return;
    }
    throw error;
  }
  const pdf = new URLSearchParams({ format: "pdf" });
  if (checklist.episode_id) pdf.set("encounter", checklist.episode_id);
  const list = el("ol", { class: "checklist", "aria-label": "Checklist items" });
  const state = el("p", { class: "meta", role: "status" });
  const fill = () => list.replaceChildren(...checklist.items.map((item) => itemRow(item, checklist, (changed) => {
    checklist.items = checklist.items.map((i) => (i.id === changed.item.id ? changed.item : i));
    fill();
    state.textContent = `${changed.item.text.slice(0, 60)}… is now ${changed.item.status}; audit ${changed.audit_id}`;
    list.querySelector(`[data-item="${CSS.escape(changed.item.id)}"] input`)?.focus();
  })));
  fill();
  view.append(
    el("h2", {}, `Discharge ${checklist.discharge_date || ""}`),
    el("p", { class: "meta" },
      [checklist.facility, checklist.disposition && `to ${checklist.disposition}`,
        checklist.complexity && `${checklist.complexity.level} complexity (${checklist.complexity.code})`]
        .filter(Boolean).join(" · ")),
    el("p", {}, el("a", {
      href: `/v1/checklists/${encodeURIComponent(patient.id)}?${pdf}`, class: "button-link", download: "",
    }, "Download the checklist (PDF)")),
    list, state,
    el("p", { class: "audit" }, `Audit record ${checklist.audit_id}`),
  );
}
