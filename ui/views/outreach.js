// Outreach drafts: draft a message for a patient, then review it with the patient-language text, the English
// text and the back-translation side by side, the reading grade and SMS segments; edit, approve or reject.
// Nothing here sends a message: an approved draft becomes a FHIR Communication and a gateway payload.
import { get, post } from "/ui/api.js";
import { el, busy, languageName, showError } from "/ui/dom.js";
import { citationList } from "/ui/source.js";

const PURPOSES = [
  ["awv_invitation", "Annual Wellness Visit invitation"],
  ["post_discharge_checkin", "Check-in after a discharge"],
  ["appointment_reminder", "Appointment reminder"],
  ["bp_check_reminder", "Blood pressure check reminder"],
  ["a1c_reminder", "HbA1c test reminder"],
  ["medication_change", "Medicines changed at discharge"],
  ["falls_program_invitation", "Falls-prevention program"],
  ["benefit_notice", "Benefit notice"],
  ["care_team_intro", "Care team introduction"],
];

export async function renderForm(view, app, patient) {
  const purpose = el("select", { id: "purpose", name: "purpose" },
    PURPOSES.map(([value, label]) => el("option", { value }, label)));
  const channel = el("select", { id: "channel", name: "channel" },
    ["sms", "letter", "portal"].map((c) => el("option", { value: c }, c === "sms" ? "Text message (SMS)" : c)));
  const language = el("input", { id: "language", name: "language", value: patient.language || "", maxlength: 16,
    "aria-describedby": "language-help" });
  const button = el("button", { type: "submit", id: "draft-button" }, "Draft");
  const form = el("form", { id: "draft-form", "aria-label": "Draft a message" },
    el("h2", {}, `Message ${patient.name}`),
    el("label", { for: "purpose" }, "About"), purpose,
    el("label", { for: "channel" }, "Channel"), channel,
    el("label", { for: "language" }, "Language"), language,
    el("p", { class: "meta", id: "language-help" },
      `The record says ${languageName(patient.language)}; a language code such as es or vi.`),
    button);
  const out = el("div", { id: "draft" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    await busy(button, async () => {
      try {
        const draft = await post(`/v1/patients/${encodeURIComponent(patient.id)}/outreach`, {
          purpose: purpose.value, channel: channel.value, language: language.value.trim() || null,
        });
        window.history.replaceState(null, "", `#/draft/${encodeURIComponent(draft.draft_id)}`);
        out.replaceChildren();
        showDraft(out, draft);
      } catch (error) {
        showError(error.message);
      }
    });
  });
  view.append(form, out);
}

export async function renderDraft(view, app, draftId) {
  const draft = await get(`/v1/outreach/drafts/${encodeURIComponent(draftId)}`);
  view.append(el("p", {}, el("a", { href: `#/patient/${encodeURIComponent(draft.patient_id)}/outreach` },
    `Back to ${app.nameOf(draft.patient_id)}`)));
  const out = el("div", { id: "draft" });
  view.append(out);
  showDraft(out, draft);
}

function gate(name, ok, text) {
  return el("li", { class: ok ? "gate pass" : "gate fail" }, el("strong", {}, `${ok ? "Passes" : "Check"}: `),
    `${name}: ${text}`);
}

function gates(draft) {
  const g = draft.gates || {};
  const items = [];
  if (g.reading_grade) items.push(gate("reading grade", g.reading_grade.passes,
    `grade ${g.reading_grade.grade} (aim for ${g.reading_grade.gate} or below)`));
  if (g.segments) items.push(gate("SMS segments", g.segments.passes,
    `${draft.segments} segment${draft.segments === 1 ? "" : "s"}, ${draft.encoding}`));
  if (g.minimum_phi) items.push(gate("minimum necessary PHI", g.minimum_phi.passes, g.minimum_phi.rule));
  if (g.opt_out) items.push(gate("opt-out line", g.opt_out.passes, g.opt_out.wording || ""));
  if (g.translation) items.push(gate("machine translation", g.translation.passes,
    g.translation.untranslated ? "still mostly English" : (g.translation.dropped || []).length
      ? `dropped ${g.translation.dropped.join(", ")}` : "kept the sender, number and name"));
  return el("ul", { class: "gates", "aria-label": "Checks" }, items);
}

function column(title, text, lang, dir, id) {
  return el("section", { class: "column", "aria-labelledby": `${id}-title` },
    el("h3", { id: `${id}-title` }, title),
    text ? el("p", { class: "message", id, lang, dir: dir || "auto" }, text)
      : el("p", { class: "meta", id }, "None: this text came from a template written in the language, not a machine translation."));
}

function showDraft(out, draft) {
  const side = el("div", { class: "side-by-side" },
    column(`${draft.language_name || languageName(draft.language)} (sent)`, draft.text, draft.language, draft.direction,
      "draft-text"),
    column("English", draft.english_text, "en", "ltr", "draft-english"),
    column("Back-translation", draft.back_translation, "en", "ltr", "draft-back"));
  const status = el("p", { class: "status-line", id: "draft-status", role: "status" },
    `Status: ${draft.review_status.replaceAll("_", " ")}`);
  const warnings = (draft.warnings || []).length
    ? el("ul", { class: "warnings", "aria-label": "Warnings" }, draft.warnings.map((w) => el("li", {}, w))) : null;
  out.append(
    el("h3", {}, `Draft ${draft.draft_id}`),
    el("p", { class: "meta" }, `${draft.purpose.replaceAll("_", " ")} · ${draft.channel} · reading grade ` +
      `${draft.reading_grade} · ${draft.segments} SMS segment${draft.segments === 1 ? "" : "s"} (${draft.encoding})`),
    side, gates(draft), warnings, citationList(draft.gate_citations), status,
    draft.review_status === "needs_review" ? review(out, draft) : null,
    el("p", { class: "audit" }, `Audit record ${draft.audit_id || draft.read_audit_id || ""}`),
  );
}

function review(out, draft) {
  const text = el("textarea", { id: "edit-text", rows: 4, lang: draft.language, dir: draft.direction || "auto" });
  text.value = draft.text;
  const english = el("textarea", { id: "edit-english", rows: 4, lang: "en" });
  english.value = draft.english_text;
  const reason = el("input", { id: "review-reason", maxlength: 1000 });
  const done = (result) => {
    out.replaceChildren();
    showDraft(out, result);
  };
  const act = (button, body) => busy(button, async () => {
    try {
      done(await post(`/v1/outreach/drafts/${encodeURIComponent(draft.draft_id)}`, body));
    } catch (error) {
      showError(error.message);
    }
  });
  const save = el("button", { type: "button", class: "secondary", id: "edit-button" }, "Save edit");
  const approve = el("button", { type: "button", class: "accept", id: "approve-button" }, "Approve");
  const reject = el("button", { type: "button", class: "secondary", id: "reject-button" }, "Reject");
  save.addEventListener("click", () => act(save, { action: "edit", text: text.value, english_text: english.value }));
  approve.addEventListener("click", () => act(approve, { action: "approve", reason: reason.value.trim() || null }));
  reject.addEventListener("click", () => {
    if (!reason.value.trim()) {
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      showError("rejecting a draft needs a reason");
      return;
    }
    act(reject, { action: "reject", reason: reason.value.trim() });
  });
  return el("form", { class: "review", "aria-label": "Review the draft", onsubmit: (e) => e.preventDefault() },
    el("details", {}, el("summary", {}, "Edit the text"),
      el("label", { for: "edit-text" }, "Text sent"), text,
      el("label", { for: "edit-english" }, "English"), english, save),
    el("label", { for: "review-reason" }, "Reason (required to reject)"), reason,
    el("div", { class: "buttons", role: "group", "aria-label": "Review" }, approve, reject));
}
