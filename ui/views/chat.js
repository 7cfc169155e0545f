// Ask: each answer sentence with its citation numbers; every citation opens the exact quoted span.
// With a patient, the question is about that patient's records (the service checks the panel).
import { post } from "/ui/api.js";
import { el, busy, showError } from "/ui/dom.js";
import { citationLink, openCitation } from "/ui/source.js";

function renderAnswer(result, parts) {
  const { answer, citations, audit } = parts;
  answer.replaceChildren();
  answer.classList.toggle("abstained", result.abstained);
  const byNumber = new Map(result.citations.map((c) => [c.n, c]));
  if (result.abstained) answer.append(el("p", {}, result.answer));
  for (const sentence of result.sentences) {
    const p = el("p", {}, sentence.text + " ");
    for (const n of sentence.citations) {
      const c = byNumber.get(n);
      p.append(el("sup", {}, el("a", {
        href: "#", "data-n": n, "aria-label": `Source ${n}: ${c ? c.title : ""}`,
        onclick: (event) => { event.preventDefault(); openCitation(c, `[${n}]`); },
      }, `[${n}]`)));
    }
    answer.append(p);
  }
  citations.replaceChildren(...result.citations.map((c) =>
    el("li", {}, citationLink(c, `${c.title} › ${c.section}`, `[${c.n}]`))));
  audit.textContent = `Audit record ${result.audit_id}`;
}

export async function render(view, app, patient) {
  const question = el("textarea", {
    id: "question", name: "question", rows: 3, required: true,
    placeholder: patient ? "What changed in the medicines at discharge?"
      : "When must the TCM interactive contact happen after discharge?",
  });
  const who = patient ? null : el("label", { for: "patient" }, "Patient on your panel (optional)");
  const picker = patient ? null : el("input", {
    id: "patient", name: "patient", list: "panel-list", placeholder: "id, FHIR id or MBI", autocomplete: "off",
  });
  const options = patient ? null : el("datalist", { id: "panel-list" },
    [...app.names].map(([id, name]) => el("option", { value: id }, name)));
  const button = el("button", { type: "submit", id: "ask-button" }, "Ask");
  const form = el("form", { id: "ask-form", "aria-label": "Ask a question" },
    el("h2", {}, patient ? `Ask about ${patient.name}` : "Ask the knowledge base"),
    who, picker, options,
    el("label", { for: "question" }, "Question"), question, button);
  const answer = el("div", { id: "answer", class: "answer" });
  const citations = el("ol", { id: "citations", class: "citations", "aria-label": "Sources" });
  const audit = el("p", { id: "audit", class: "audit" });
  const result = el("section", { id: "result", "aria-live": "polite", "aria-label": "Answer", hidden: true },
    answer, citations, audit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    await busy(button, async () => {
      try {
        const body = await post("/v1/ask", {
          question: question.value,
          patient_id: patient ? patient.id : (picker.value.trim() || null),
          role: app.role(),
        });
        renderAnswer(body, { answer, citations, audit });
        result.hidden = false;
      } catch (error) {
        showError(error.message);
      }
    });
  });
  view.append(form, result);
}
