// Opening a citation: the cited chunk from /v1/sources with the exact quoted span marked, in a modal dialog.
import { get } from "/ui/api.js";
import { $, el, showError } from "/ui/dom.js";

let opener = null;

export async function openCitation(citation, label) {
  if (!citation || !citation.chunk_id) return;
  opener = document.activeElement;
  const params = new URLSearchParams({ start: citation.start, end: citation.end });
  let body;
  try {
    body = await get(`/v1/sources/${encodeURIComponent(citation.chunk_id)}?${params}`);
  } catch (error) {
    showError(error.message);
    return;
  }
  $("source-title").textContent = `${label ? label + " " : ""}${body.title}`;
  $("source-meta").textContent =
    `${body.section} · ${body.source_uri} · characters ${citation.start}-${citation.end}`;
  const pre = $("source-text");
  pre.replaceChildren(
    document.createTextNode(body.text.slice(0, body.highlight.start)),
    el("mark", {}, body.text.slice(body.highlight.start, body.highlight.end)),
    document.createTextNode(body.text.slice(body.highlight.end)),
  );
  const links = $("source-links");
  links.replaceChildren();
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
  const spans = (citations || []).filter((c) => c.chunk_id);
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
