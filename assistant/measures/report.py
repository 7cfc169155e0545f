"""The panel report: per measure, the count of every population, the performance rate, and the open gaps.

Why gaps differ by measure: CMS165 is a "higher is better" measure, so a denominator patient who is not excluded
and not in the numerator is the gap (blood pressure not controlled, or no reading). CMS122 is inverse: the
numerator itself is the gap (HbA1c over 9 %, or no result). The rate is the CMS one: numerator over denominator
minus exclusions. The HTML report is one self-contained file (inline SVG, no script, no network), so it opens
offline and can be mailed to a quality committee.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.measures.engine import INVERSE, is_gap
from assistant.measures.period import MeasurementPeriod
from assistant.measures.results import DENOMINATOR, DENOMINATOR_EXCLUSION, NUMERATOR, POPULATIONS, MeasureResult


@dataclass(frozen=True)
class Gap:
    patient_id: str
    reason: str
    evidence: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class MeasureSummary:
    measure: str
    title: str
    period: MeasurementPeriod
    counts: dict[str, int]
    rate: float | None
    inverse: bool
    gaps: tuple[Gap, ...] = ()
    prior_rate: float | None = None  # the same measure over the period before, when the records reach back


@dataclass(frozen=True)
class PanelReport:
    as_of: date
    patients: int
    measures: tuple[MeasureSummary, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self, with_gaps: bool = True) -> dict[str, Any]:
        return {
            "schema": "caretrail.measures_report/1",
            "as_of": self.as_of.isoformat(),
            "patients": self.patients,
            "notes": list(self.notes),
            "measures": {
                m.measure: {
                    "title": m.title, "period": str(m.period), "counts": m.counts, "rate": m.rate,
                    "prior_rate": m.prior_rate, "inverse": m.inverse,
                    **({"gaps": [{"patient_id": g.patient_id, "reason": g.reason, "evidence": list(g.evidence)}
                                 for g in m.gaps]} if with_gaps else {}),
                }
                for m in self.measures
            },
        }


def rate(counts: dict[str, int]) -> float | None:
    eligible = counts[DENOMINATOR] - counts[DENOMINATOR_EXCLUSION]
    return round(counts[NUMERATOR] / eligible, 4) if eligible > 0 else None


def _gap(result: MeasureResult) -> Gap:
    evidence = result.evidence.get(NUMERATOR, ())
    reason = "; ".join(e.reason for e in evidence) or "no qualifying result in the period"
    return Gap(result.patient_id, reason, tuple(e.as_dict() for e in evidence))


def summarize(measure: str, title: str, period: MeasurementPeriod, results: list[MeasureResult],
              prior: list[MeasureResult] | None = None) -> MeasureSummary:
    counts = {population: sum(1 for r in results if r.populations[population]) for population in POPULATIONS}
    prior_rate = None
    if prior:
        prior_counts = {p: sum(1 for r in prior if r.populations[p]) for p in POPULATIONS}
        prior_rate = rate(prior_counts)
    gaps = tuple(_gap(r) for r in sorted(results, key=lambda r: r.patient_id) if is_gap(r))
    return MeasureSummary(measure, title, period, counts, rate(counts), measure in INVERSE, gaps, prior_rate)


def _bar(label: str, value: float | None, y: int) -> str:
    width = 0 if value is None else round(value * 300)
    shown = "n/a" if value is None else f"{value:.1%}"
    return (f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>'
            f'<rect x="120" y="{y}" width="{width}" height="18" fill="#0b6e6e"/>'
            f'<text x="{126 + width}" y="{y + 14}" font-size="12">{shown}</text>')


def render_html(report: PanelReport) -> str:
    """One self-contained page: a bar chart per measure (this period against the one before), counts, gaps."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Caretrail measures report</title>"
        "<style>body{font:14px system-ui,sans-serif;max-width:900px;margin:24px auto;color:#1b2430}"
        "table{border-collapse:collapse}td,th{border:1px solid #c9d1db;padding:4px 8px;text-align:left}</style>"
        "</head><body>",
        f"<h1>Measures report as of {report.as_of.isoformat()}</h1><p>{report.patients} patients.</p>",
        *[f"<p><em>{html.escape(note)}</em></p>" for note in report.notes],
    ]
    for m in report.measures:
        direction = "lower is better" if m.inverse else "higher is better"
        parts.append(f"<h2>{html.escape(m.title)}</h2><p>Period {m.period} ({direction})</p>")
        parts.append('<svg width="520" height="52" role="img" aria-label="rate">'
                     + _bar("this period", m.rate, 2) + _bar("prior period", m.prior_rate, 28) + "</svg>")
        parts.append("<table><tr>" + "".join(f"<th>{p}</th>" for p in m.counts) + "</tr><tr>"
                     + "".join(f"<td>{n}</td>" for n in m.counts.values()) + "</tr></table>")
        if m.gaps:
            parts.append(f"<h3>Open gaps ({len(m.gaps)})</h3><table><tr><th>patient</th><th>reason</th>"
                         "<th>source</th></tr>")
            for gap in m.gaps:
                source = "; ".join(f"{e.get('source_path', '')} @ {e.get('locator', '')}" for e in gap.evidence)
                parts.append(f"<tr><td>{html.escape(gap.patient_id)}</td><td>{html.escape(gap.reason)}</td>"
                             f"<td>{html.escape(source)}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
