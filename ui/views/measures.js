// The panel's measure report: per measure the rate against the prior year and the population counts as charts
// (SVG drawn from the report's numbers, with the same numbers in a table for screen readers), and the open gaps.
import { get } from "/ui/api.js";
import { el } from "/ui/dom.js";
import { citationLink, openable } from "/ui/source.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const percent = (rate) => (rate === null || rate === undefined ? "n/a" : `${(rate * 100).toFixed(1)}%`);

// Two horizontal bars: this year's rate and the prior year's, on a 0-100% scale.
function rateChart(measure, id) {
  const width = 320;
  const rows = [["This year", measure.rate, "bar-now"], ["Prior year", measure.prior_rate, "bar-prior"]];
  const chart = svg("svg", {
    viewBox: `0 0 ${width} 64`, role: "img", class: "chart", "aria-labelledby": `${id}-desc`,
  });
  chart.append(svg("desc", { id: `${id}-desc` },
    `${measure.title}: ${percent(measure.rate)} this year, ${percent(measure.prior_rate)} the prior year` +
    (measure.inverse ? " (lower is better)" : " (higher is better)")));
  rows.forEach(([label, rate, cls], i) => {
    const y = 6 + i * 30;
    chart.append(svg("text", { x: 0, y: y + 14, class: "chart-label" }, label));
    chart.append(svg("rect", { x: 80, y, width: 180, height: 20, class: "bar-track", rx: 3 }));
    if (rate !== null && rate !== undefined) {
      chart.append(svg("rect", { x: 80, y, width: Math.max(1, 180 * rate), height: 20, class: cls, rx: 3 }));
    }
    chart.append(svg("text", { x: 266, y: y + 14, class: "chart-value" }, percent(rate)));
  });
  return chart;
}

// The populations as bars sharing one scale: initial population, denominator, exclusions, numerator.
function populationChart(measure, id) {
  const entries = Object.entries(measure.counts);
  const top = Math.max(1, ...entries.map(([, n]) => n));
  const chart = svg("svg", {
    viewBox: `0 0 320 ${entries.length * 24 + 4}`, role: "img", class: "chart", "aria-labelledby": `${id}-pop`,
  });
  chart.append(svg("desc", { id: `${id}-pop` },
    `${measure.title} populations: ` + entries.map(([k, n]) => `${k.replaceAll("-", " ")} ${n}`).join(", ")));
  entries.forEach(([key, n], i) => {
    const y = 2 + i * 24;
    chart.append(svg("text", { x: 0, y: y + 14, class: "chart-label" }, key.replaceAll("-", " ")));
    chart.append(svg("rect", { x: 150, y, width: Math.max(1, (130 * n) / top), height: 18, class: "bar-count", rx: 3 }));
    chart.append(svg("text", { x: 286, y: y + 14, class: "chart-value" }, String(n)));
  });
  return chart;
}

function measureSection(key, measure, app, index) {
  const id = `measure-${index}`;
  const table = el("table", { class: "numbers" },
    el("caption", {}, "Populations"),
    el("tbody", {}, Object.entries(measure.counts).map(([k, n]) =>
      el("tr", {}, el("th", { scope: "row" }, k.replaceAll("-", " ")), el("td", {}, String(n))))));
  const gaps = measure.gaps || [];
  return el("section", { class: "card measure", "aria-labelledby": `${id}-title` },
    el("h3", { id: `${id}-title` }, measure.title),
    el("p", { class: "meta" }, `${measure.period} · rate ${percent(measure.rate)}` +
      ` (prior year ${percent(measure.prior_rate)}) · ${measure.inverse ? "lower is better" : "higher is better"}`),
    rateChart(measure, id), populationChart(measure, id),
    el("details", {}, el("summary", {}, "The numbers"), table),
    gaps.length ? el("details", {}, el("summary", {}, `Open gaps (${gaps.length})`),
      el("ul", { class: "gaps" }, gaps.map((g) => el("li", {},
        el("a", { href: `#/patient/${encodeURIComponent(g.patient_id)}` }, app.nameOf(g.patient_id)),
        `: ${g.reason}`,
        // each record the gap rests on opens as stored (an observation, an encounter)
        ...(g.evidence || []).map(openable).filter(Boolean).map((record, i) =>
          el("span", {}, " ", citationLink(record, `[record ${i + 1}]`))))))) : null);
}

export async function render(view, app) {
  const report = await get("/v1/measures/report");
  view.append(
    el("h2", {}, "Measures"),
    el("p", { class: "meta" }, `${report.patients} patients, as of ${report.as_of}.`),
    ...Object.entries(report.measures).map(([key, m], i) => measureSection(key, m, app, i)),
    ...(report.notes || []).map((n) => el("p", { class: "meta" }, n)),
    el("p", { class: "audit" }, `Audit record ${report.audit_id}`),
  );
}
