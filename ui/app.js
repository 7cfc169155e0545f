// Caretrail side panel: ask, show each sentence with its citations, open a citation at its exact span.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

let csrfToken = "";

// Every call goes with the session cookie; calls that change something carry the session's CSRF token.
async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (response.status === 401) window.location.assign("/login");
  return response;
}

async function start() {
  const response = await fetch("/v1/session", { credentials: "same-origin" });
  if (!response.ok) { window.location.assign("/login"); return; }
  const me = await response.json();
  csrfToken = me.csrf_token || "";
  $("whoami").textContent = `Signed in as ${me.user} (${me.role.replace("_", " ")}), panel: ${me.panel}`;
  const view = $("role");
  if ([...view.options].some((o) => o.value === me.role)) view.value = me.role;
  const panel = await api("/v1/patients?limit=1000");
  if (panel.ok) {
    const list = $("panel");
    for (const patient of (await panel.json()).patients) {
      list.append(el("option", { value: patient.id }, `${patient.name} (${patient.birth_date || "?"})`));
    }
  }
}

$("sign-out").addEventListener("click", async () => {
  await api("/v1/session", { method: "DELETE" });
  window.location.assign("/login");
});

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function openCitation(citation) {
  const params = new URLSearchParams({ start: citation.start, end: citation.end });
  const response = await api(`/v1/sources/${encodeURIComponent(citation.chunk_id)}?${params}`);
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
    const response = await api("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
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

start();
