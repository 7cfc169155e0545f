// Opening a citation: the cited chunk from /v1/sources with the exact quoted span marked, in a modal dialog.
import { get } from "/ui/api.js";
import { $, el, showError } from "/ui/dom.js";

let opener = null;

// A record citation (a checklist's or guidance's evidence: a stored record, or a section of a note) opens through
// the same route as a chunk, by its reference ``record:<document>/<kind>/<id>``.
export function openable(citation) {
  if (!citation) return null;
  if (citation.chunk_id) return citation;
  const kind = citation.kind || citation.record_kind;
  if (citation.document_id && kind && citation.record_id) {
    return {
      ...citation,
      chunk_id: `record:${citation.document_id}/${kind}/${citation.record_id}`,
      title: citation.title || `${kind} record`,
      section: citation.section || citation.locator || citation.reason || "",
    };
  }
  return null;
}

export async function openCitation(cited, label) {
  const citation = openable(cited);
  if (!citation) return;
  opener = document.activeElement;
  const params = new URLSearchParams();
  if (Number.isInteger(citation.start) && Number.isInteger(citation.end)) {
    params.set("start", citation.start);
    params.set("end", citation.end);
  }
  let body;
  try {
    body = await get(`/v1/sources/${encodeURIComponent(citation.chunk_id)}?${params}`);
  } catch (error) {
    showError(error.message);
    return;
  }
  $("source-title").textContent = `${label ? label + " " : ""}${body.title}`;
  const span = params.has("start") ? ` · characters ${citation.start}-${citation.end}` : "";
  $("source-meta").textContent = `${body.section || ""} · ${body.source_uri}${span}`;
  const pre = $("source-text");
  pre.replaceChildren(
    document.createTextNode(body.text.slice(0, body.highlight.start)),
    el("mark", {}, body.text.slice(body.highlight.start, body.highlight.end)),
    document.createTextNode(body.text.slice(body.highlight.end)),
  );
  const links = $("source-links");
  links.replaceChildren();
  if (typeof body.source_excerpt === "string" && body.source_excerpt) {
    links.append(el("details", {}, el("summary", {}, "As it reads in the source file"),
      el("pre", { tabindex: "0", "aria-label": "Source file excerpt" }, body.source_excerpt)));
  }
  if (body.source_note) links.append(el("span", {}, body.source_note), el("br"));
  for (const url of body.source_urls || []) {
    links.append(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url), el("br"));
  }
  const dialog = $("source");
  if (!dialog.open) dialog.showModal();
  pre.querySelector("mark")?.scrollIntoView({ block: "center" });
  $("source-close").focus();
}

// A citation link: its text names the source, and it opens the span in place.
export function citationLink(citation, text, label) {
  return el("a", {
    href: "#", class: "cite", "data-chunk": citation.chunk_id,
    "aria-label": `Open source: ${citation.title} › ${citation.section}`,
    onclick: (event) => { event.preventDefault(); openCitation(citation, label); },
  }, text);
}

export function citationList(citations) {
  const spans = (citations || []).map(openable).filter(Boolean);
  if (!spans.length) return null;
  return el("ul", { class: "citations", "aria-label": "Sources" },
    spans.map((c) => el("li", {}, citationLink(c, `${c.title} › ${c.section}`),
      c.quote ? el("span", { class: "quote" }, ` “${c.quote.length > 90 ? c.quote.slice(0, 88) + "…" : c.quote}”`) : null)));
}

export function installSourceDialog() {
  const dialog = $("source");
  $("source-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => { if (opener && opener.focus) opener.focus(); });
}
