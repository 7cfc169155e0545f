"""Checks on the knowledge base and its question sets.

The retrieval engine cites whole sentences from `knowledge/*.md` and the evals score it against
`evals/*.jsonl`, so a malformed front matter block, a dangling doc id or a key fact that is not in the
cited document would silently corrupt answers or scores. These tests read the real files.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from spacy.lang.en.stop_words import STOP_WORDS

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"
EVALS = REPO / "evals"

MIN_DOCS = 14
MAX_SECTION_WORDS = 400
BENCH_LINES = 200
MIN_QA = 48
MIN_OOS = 15
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
HEADING = re.compile(r"^(#{2,3}) (.+)$", re.M)
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def split_doc(path: Path) -> tuple[dict, str]:
    """Return (front matter, body); fails loudly because a doc without front matter cannot be indexed."""
    match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    assert match, f"{path.name}: missing '---' front matter block"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path.name}: front matter is not a mapping"
    return meta, match.group(2)


def sections(body: str) -> list[tuple[str, str]]:
    """Split a body into (heading, text) pairs at every ## or ### heading."""
    marks = list(HEADING.finditer(body))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        out.append((m.group(2).strip(), body[m.end() : end]))
    return out


def flat(text: str) -> str:
    return " ".join(text.split()).lower()


def doc_paths() -> list[Path]:
    return sorted(p for p in KNOWLEDGE.glob("*.md") if p.name != "README.md")


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{n}: blank line"
        row = json.loads(line)
        assert isinstance(row, dict), f"{path.name}:{n}: not a JSON object"
        rows.append(row)
    return rows


DOCS = doc_paths()


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    """Doc id -> body text, for key-fact lookups."""
    return {p.stem: split_doc(p)[1] for p in DOCS}


def test_enough_documents() -> None:
    assert len(DOCS) >= MIN_DOCS, f"only {len(DOCS)} knowledge documents"


def test_readme_lists_every_document() -> None:
    readme = (KNOWLEDGE / "README.md").read_text(encoding="utf-8")
    assert not readme.startswith("---"), "README.md must not carry front matter"
    missing = [p.stem for p in DOCS if f"`{p.stem}`" not in readme]
    assert not missing, f"README.md does not list: {missing}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.stem)
def test_front_matter(path: Path) -> None:
    meta, _ = split_doc(path)
    required = {"id", "title", "source_urls", "effective_date", "version", "topics"}
    assert required <= meta.keys(), f"missing fields: {required - meta.keys()}"
    assert meta["id"] == path.stem, "id must equal the file name without .md"
    assert KEBAB.match(meta["id"]), "id must be kebab-case"
    assert isinstance(meta["title"], str) and meta["title"].strip()
    assert isinstance(meta["effective_date"], dt.date), "effective_date must be a YAML date (YYYY-MM-DD)"
    assert isinstance(meta["version"], str) and meta["version"].strip(), "version must be a quoted string"
    topics = meta["topics"]
    assert isinstance(topics, list) and topics, "topics must be a non-empty list"
    assert all(isinstance(t, str) and KEBAB.match(t) for t in topics), f"bad topics: {topics}"
    urls = meta["source_urls"]
    assert isinstance(urls, list) and urls, "source_urls must be a non-empty list"
    assert len(set(urls)) == len(urls), "duplicate source_urls"
    for url in urls:
        parsed = urlparse(str(url))
        assert parsed.scheme == "https" and parsed.netloc, f"not an https URL: {url}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.stem)
def test_body_structure(path: Path) -> None:
    meta, body = split_doc(path)
    parts = sections(body)
    headings = [h for h, _ in parts]
    assert headings.count("Sources") == 1, "exactly one '## Sources' section is required"
    assert headings[-1] == "Sources", "'## Sources' must be the final section"
    assert len(parts) >= 3, "a document needs at least two content sections before Sources"
    assert re.search(r"^## Sources$", body, re.M), "Sources must be a level-2 heading"
    for heading, text in parts:
        words = len(text.split())
        assert words <= MAX_SECTION_WORDS, f"section '{heading}' has {words} words"
        if heading != "Sources":
            assert words > 0, f"section '{heading}' is empty"
    listed = re.findall(r"^- (\S+)$", dict(parts)["Sources"], re.M)
    assert listed == meta["source_urls"], "'## Sources' bullets must match source_urls"
    assert not re.search(r"^\s*\|", body, re.M), "tables are not allowed"
    assert not HTML_TAG.search(body), "HTML is not allowed"
    assert not re.search(r"\[\^", body), "footnote markers are not allowed"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.stem)
def test_bullets_are_sentences(path: Path) -> None:
    _, body = split_doc(path)
    content = body.split("\n## Sources\n")[0]
    for line in content.splitlines():
        if line.startswith("- "):
            assert line.rstrip().endswith("."), f"bullet is not a full sentence: {line}"


def check_questions(rows: list[dict], prefix: str | tuple[str, ...], bodies: dict[str, str]) -> None:
    ids = [r.get("id") for r in rows]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate ids: {sorted(dupes)}"
    for r in rows:
        assert set(r) == {"id", "question", "doc_ids", "key_fact"}, f"{r.get('id')}: wrong keys {sorted(r)}"
        assert isinstance(r["id"], str) and r["id"].startswith(prefix), f"bad id {r['id']}"
        assert isinstance(r["question"], str) and len(r["question"].split()) >= 3, f"{r['id']}: bad question"
        assert isinstance(r["doc_ids"], list) and r["doc_ids"], f"{r['id']}: doc_ids empty"
        unknown = [d for d in r["doc_ids"] if d not in bodies]
        assert not unknown, f"{r['id']}: unknown doc_ids {unknown}"
        kf = r["key_fact"]
        assert isinstance(kf, str) and 2 <= len(kf.split()) <= 8, f"{r['id']}: key_fact must be 2-8 words"
        assert any(flat(kf) in flat(bodies[d]) for d in r["doc_ids"]), (
            f"{r['id']}: key_fact {kf!r} not found verbatim in {r['doc_ids']}"
        )


def test_knowledge_qa(bodies: dict[str, str]) -> None:
    rows = load_jsonl(EVALS / "knowledge_qa.jsonl")
    assert len(rows) >= MIN_QA
    check_questions(rows, "kq-", bodies)
    per_doc = {d: 0 for d in bodies}
    for r in rows:
        for d in r["doc_ids"]:
            per_doc[d] += 1
    thin = {d: n for d, n in per_doc.items() if n < 2}
    assert not thin, f"documents with fewer than 2 questions: {thin}"


def test_bench_questions(bodies: dict[str, str]) -> None:
    rows = load_jsonl(EVALS / "bench_questions.jsonl")
    assert len(rows) == BENCH_LINES
    check_questions(rows, ("kq-", "bq-"), bodies)
    qa_questions = {r["question"] for r in load_jsonl(EVALS / "knowledge_qa.jsonl")}
    bench_questions = [r["question"] for r in rows]
    assert qa_questions <= set(bench_questions), "bench must include every knowledge_qa question"
    assert len(set(bench_questions)) == len(bench_questions), "duplicate question text in bench"
    per_doc = {d: 0 for d in bodies}
    for r in rows:
        per_doc[r["doc_ids"][0]] += 1
    thin = {d: n for d, n in per_doc.items() if n < 5}
    assert not thin, f"documents with fewer than 5 bench questions: {thin}"


def test_out_of_scope_questions(bodies: dict[str, str]) -> None:
    rows = load_jsonl(EVALS / "knowledge_out_of_scope.jsonl")
    assert len(rows) >= MIN_OOS
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids), "duplicate ids"
    vocab = set(re.findall(r"[a-z]{4,}", " ".join(bodies.values()).lower()))
    in_scope = {r["question"] for r in load_jsonl(EVALS / "knowledge_qa.jsonl")}
    for r in rows:
        assert set(r) == {"id", "question"} and r["id"].startswith("oos-"), r
        q = r["question"]
        assert isinstance(q, str) and q.strip() and q not in in_scope
        words = set(re.findall(r"[a-z]{4,}", q.lower())) - STOP_WORDS
        shared = words & vocab
        assert len(shared) <= max(1, len(words) // 2), f"{r['id']} shares too many words with the docs: {shared}"
