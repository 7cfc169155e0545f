"""The query tokenizer gives exactly the tokens bm25s gives the indexed text, so a question's words meet the
index's; and it is safe to call from the server's threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import bm25s
import pytest

from assistant.retrieval.bm25 import _stemmer, build, tokenize_query

TEXTS = [
    "What are the TCM deadlines after discharge (99495, 99496)?",
    "Patient's daughter helps at home; she isn't able to drive. Furosemide 40 mg daily -> 80 mg!",
    "LEAD ACOs take on shared savings and shared losses under the Global or Professional risk track.",
    "Ñandú café naïve résumé: Unicode words, a_b snake_case, e-mail and 3.5% figures",
    "",
    "a I x",  # single characters and stop words only
]


@pytest.mark.parametrize("text", TEXTS)
def test_query_tokens_are_bm25s_tokens(text: str) -> None:
    expected = bm25s.tokenize([text], stemmer=_stemmer(), stopwords="en", return_ids=False, show_progress=False)
    assert tokenize_query(text) == expected


def test_a_question_finds_the_chunk_that_shares_its_stemmed_words() -> None:
    index = build("v1", ["a", "b"], ["Home health visits were ordered.", "Discharged on furosemide 80 mg daily."])
    assert index.search("Which home-health visit did they order?", 2)[0][0] == "a"
    assert index.search("furosemide dose", 2)[0][0] == "b"


def test_tokenizing_from_many_threads_gives_the_same_tokens() -> None:
    words = " ".join(TEXTS) * 20
    expected = tokenize_query(words)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: tokenize_query(words), range(200)))
    assert all(result == expected for result in results)
