// Guidance cards for one patient: the user's role first, each with owner, due date, evidence and cited sources;
// accept, complete or dismiss (a reason is required), each decision audited by the service.
import { post } from "/ui/api.js";
import { el, busy, dueText, roleName, showError } from "/ui/dom.js";
import { citationLink, citationList, openable } from "/ui/source.js";
import { ruleName } from "/ui/views/worklist.js";

function evidenceList(item) {
  if (!item.evidence.length) return null;
  return el("details", {}, el("summary", {}, `Evidence (${item.evidence.length})`),
    el("ul", { class: "evidence" }, item.evidence.map((e) => {
      const record = openable(e);
      return el("li", {}, record ? citationLink(record, e.reason) : e.reason,
        e.locator ? el("span", { class: "meta" }, ` · ${e.locator}`) : null);
    })));
}

function decisionForm(item, patient, card, onDecided) {
  const reasonId = `reason-${item.id}`;
  const reason = el("textarea", { id: reasonId, rows: 2, maxlength: 1000 });
  const status = el("p", { class: "meta", role: "status" });
  const decide = async (button, value) => {
    if (value === "dismissed" && !reason.value.trim()) {
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      status.textContent = "Dismissing needs a reason.";
      return;
    }
    await busy(button, async () => {
      try {
        const done = await post(`/v1/guidance/${encodeURIComponent(item.id)}/status`, {
          patient: patient.id, status: value, reason: reason.value.trim() || null,
        });
        onDecided(done);
      } catch (error) {
        showError(error.message);
      }
    });
  };
  const accept = el("button", { type: "button", class: "accept" }, "Accept");
  const complete = el("button", { type: "button", class: "secondary" }, "Complete");
  const dismiss = el("button", { type: "button", class: "secondary" }, "Dismiss");
  accept.addEventListener("click", () => decide(accept, "accepted"));
  complete.addEventListener("click", () => decide(complete, "completed"));
  dismiss.addEventListener("click", () => decide(dismiss, "dismissed"));
  return el("div", { class: "decide" },
    el("label", { for: reasonId }, "Reason (required to dismiss)"), reason,
    el("div", { class: "buttons", role: "group", "aria-label": "Decision" }, accept, complete, dismiss), status);
}

function card(item, patient, app) {
  const node = el("li", { class: `card priority-${item.priority}`, "data-item": item.id, "data-status": item.status });
  const state = el("span", { class: `pill status-${item.status}` }, item.status);
  const render = () => {
    node.replaceChildren(
      el("div", { class: "card-head" },
        el("h3", {}, ruleName(item.rule)), el("span", { class: `pill ${item.priority}` }, item.priority), state),
      el("p", {}, item.action),
      el("p", { class: "meta" }, item.rationale),
      el("p", { class: "meta owner" }, `Owner: ${roleName(item.owner_role)} · ${dueText(item.due)}`),
      evidenceList(item),
      citationList(item.citations),
      item.status === "open" || item.status === "accepted"
        ? decisionForm(item, patient, node, (done) => {
          item.status = done.status;
          node.dataset.status = done.status;
          state.textContent = done.status;
          state.className = `pill status-${done.status}`;
          render();
          node.append(el("p", { class: "audit", role: "status" }, `Recorded as ${done.status}; audit ${done.audit_id}`));
        })
        : null,
    );
  };
  render();
  return node;
}

export function render(view, app, patient, advice) {
  const mine = advice.items.filter((i) => i.owner_role === advice.role);
  const others = advice.items.filter((i) => i.owner_role !== advice.role);
  const section = (title, items) => el("section", { "aria-label": title },
    el("h3", { class: "section-title" }, `${title} (${items.length})`),
    items.length ? el("ol", { class: "cards" }, items.map((i) => card(i, patient, app))) : el("p", { class: "meta" }, "None."));
  view.append(
    section(`For ${roleName(advice.role)}`, mine),
    section("For the rest of the care team", others),
    el("p", { class: "audit" }, `Audit record ${advice.audit_id}`),
  );
}
