// Caretrail side panel: ask, show each sentence with its citations, open a citation at its exact span.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function openCitation(citation) {
  const params = new URLSearchParams({ start: citation.start, end: citation.end });
  const response = await fetch(`/v1/sources/${encodeURIComponent(citation.chunk_id)}?${params}`, {
    headers: { "X-Caretrail-Role": $("role").value },
  });
  const body = await response.json();
  if (!response.ok) { showError(body.detail || "could not open the source"); return; }
  $("source-title").textContent = `[${citation.n}] ${body.title}`;
  $("source-meta").textContent = `${body.section} · ${body.source_uri} · characters ${citation.start}-${citation.end}`;
  const pre = $("source-text");
  pre.replaceChildren(
    document.createTextNode(body.text.slice(0, body.highlight.start)),
    el("mark", {}, body.text.slice(body.highlight.start, body.highlight.end)),
    document.createTextNode(body.text.slice(body.highlight.end)),
  );
  const links = $("source-links");
  links.replaceChildren();
  for (const url of body.source_urls || []) {
    const a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
    links.append(a, document.createElement("br"));
  }
  $("source").hidden = false;
  pre.querySelector("mark")?.scrollIntoView({ block: "center" });
}

function render(result) {
  const answer = $("answer");
  answer.replaceChildren();
  answer.classList.toggle("abstained", result.abstained);
  const byNumber = new Map(result.citations.map((c) => [c.n, c]));
  if (result.abstained) {
    answer.append(el("p", {}, result.answer));
  }
  for (const sentence of result.sentences) {
    const p = el("p", {}, sentence.text + " ");
    for (const n of sentence.citations) {
      const sup = el("sup");
      const link = el("a", { href: "#", "data-n": n, title: "Open source" }, `[${n}]`);
      link.addEventListener("click", (event) => { event.preventDefault(); openCitation(byNumber.get(n)); });
      sup.append(link);
      p.append(sup);
    }
    answer.append(p);
  }
  const list = $("citations");
  list.replaceChildren();
  for (const citation of result.citations) {
    const item = el("li");
    const link = el("a", { href: "#" }, `${citation.title} › ${citation.section}`);
    link.addEventListener("click", (event) => { event.preventDefault(); openCitation(citation); });
    item.append(link);
    list.append(item);
  }
  $("audit").textContent = `Audit record ${result.audit_id}`;
  $("result").hidden = false;
  $("source").hidden = true;
}

$("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const button = $("ask-button");
  button.disabled = true;
  try {
    const response = await fetch("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Caretrail-Role": $("role").value },
      body: JSON.stringify({
        question: $("question").value,
        patient_id: $("patient").value.trim() || null,
        role: $("role").value,
      }),
    });
    const body = await response.json();
    if (!response.ok) {
      showError(typeof body.detail === "string" ? body.detail : "the request was not valid");
      return;
    }
    render(body);
  } catch (error) {
    showError("the Caretrail service did not answer");
  } finally {
    button.disabled = false;
  }
});
