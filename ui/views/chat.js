// The chat: a conversation (about one patient, or about the protocols) whose answers stream in sentence by sentence
// as server-sent events (POST /v1/conversations/{id}/messages, docs/chat.md); the final event carries the citations,
// and every citation opens the exact quoted span. Earlier turns stay above the latest answer.
import { post, request } from "/ui/api.js";
import { el, busy, showError } from "/ui/dom.js";
import { citationLink, openCitation } from "/ui/source.js";

// Server-sent events from a fetch body: yields {event, data} as each event arrives.
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    const frames = buffer.split(/\r\n\r\n|\n\n|\r\r/);
    buffer = frames.pop();
    for (const frame of frames) {
      let event = "message";
      const data = [];
      for (const line of frame.split(/\r\n|\n|\r/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
    }
    if (done) return;
  }
}

function sentenceNode(sentence, byNumber) {
  const p = el("p", {}, sentence.text + " ");
  for (const n of sentence.citations) {
    const c = byNumber ? byNumber.get(n) : null;
    p.append(el("sup", {}, c
      ? el("a", {
        href: "#", "data-n": n, "aria-label": `Source ${n}: ${c.title || c.kind || ""}`,
        onclick: (event) => { event.preventDefault(); openCitation(c, `[${n}]`); },
      }, `[${n}]`)
      : `[${n}]`));
  }
  return p;
}

// The chat links to the API's structured result; the panel opens its own view of it instead.
function panelLink(link, patientId) {
  const id = encodeURIComponent(patientId || "");
  if (link.rel === "guidance" && patientId) return [`#/patient/${id}/guidance`, "Open the guidance cards"];
  if (link.rel === "checklist" && patientId) return [`#/patient/${id}/checklist`, "Open the checklist"];
  if (link.rel === "outreach_draft") {
    const draft = (link.href || "").split("?")[0].split("/").pop();
    return [`#/draft/${draft}`, "Review the draft"];
  }
  return null;
}

function renderFinal(result, parts) {
  const { answer, citations, audit } = parts;
  answer.replaceChildren();
  answer.classList.toggle("abstained", result.abstained);
  answer.removeAttribute("aria-busy");
  const byNumber = new Map(result.citations.map((c) => [c.n, c]));
  if (result.abstained) answer.append(el("p", {}, result.answer));
  for (const sentence of result.sentences) answer.append(sentenceNode(sentence, byNumber));
  for (const link of result.links || []) {
    const here = panelLink(link, result.patient_id);
    if (here) answer.append(el("p", {}, el("a", { href: here[0] }, here[1])));
  }
  citations.replaceChildren(...result.citations.map((c) =>
    el("li", {}, citationLink(c, `${c.title || c.kind || "record"} › ${c.section || c.locator || ""}`, `[${c.n}]`))));
  audit.textContent = `Audit record ${result.audit_id}`;
}

export async function render(view, app, patient) {
  const question = el("textarea", {
    id: "question", name: "question", rows: 3, required: true,
    placeholder: patient ? "What changed in the medicines at discharge?"
      : "When must the TCM interactive contact happen after discharge?",
  });
  const button = el("button", { type: "submit", id: "ask-button" }, "Ask");
  const form = el("form", { id: "ask-form", "aria-label": "Ask a question" },
    el("h2", {}, patient ? `Ask about ${patient.name}` : "Ask about the protocols"),
    el("label", { for: "question" }, "Question"), question, button);
  const thread = el("ol", { id: "thread", class: "thread", "aria-label": "Earlier questions" });
  const asked = el("p", { class: "asked", id: "asked" });
  const answer = el("div", { id: "answer", class: "answer" });
  const citations = el("ol", { id: "citations", class: "citations", "aria-label": "Sources" });
  const audit = el("p", { id: "audit", class: "audit" });
  const result = el("section", { id: "result", "aria-live": "polite", "aria-label": "Answer", hidden: true },
    asked, answer, citations, audit);
  let conversation = null;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const text = question.value.trim();
    if (!text) return;
    await busy(button, async () => {
      try {
        if (!conversation) {
          conversation = await post("/v1/conversations", { patient_id: patient ? patient.id : null, role: app.role() });
        }
        if (!result.hidden) {  // the previous turn moves up into the thread, its links still live
          thread.append(el("li", { class: "turn" }, ...[asked, answer, citations].map((node) => {
            const copy = el(node.tagName.toLowerCase(), { class: node.className });
            copy.append(...node.childNodes);
            return copy;
          })));
        }
        asked.textContent = text;
        answer.replaceChildren();
        answer.classList.remove("abstained");
        answer.setAttribute("aria-busy", "true");
        citations.replaceChildren();
        audit.textContent = "";
        result.hidden = false;
        const response = await request(`/v1/conversations/${encodeURIComponent(conversation.conversation_id)}/messages`,
          { method: "POST", body: { text }, stream: true });
        for await (const { event: kind, data } of readEvents(response)) {
          if (kind === "sentence") answer.append(sentenceNode(data, null));
          else if (kind === "final") renderFinal(data, { answer, citations, audit });
        }
        question.value = "";
      } catch (error) {
        answer.removeAttribute("aria-busy");
        showError(error.message);
      }
    });
  });
  view.append(form, thread, result);
}
