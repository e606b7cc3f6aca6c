"""The compiled matcher against the one-by-one evaluator: identical matches and explanations."""

from __future__ import annotations

import json
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.query import (
    AnalyzedDoc,
    PaperDoc,
    Query,
    QueryError,
    QueryLimits,
    analyze_doc,
    compile_matcher,
    parse_query,
)
from digest.query import match_query as oracle
from digest.query.prepared import PreparedBatch
from tests.conftest import data_path

LIMITS = QueryLimits(max_length=2000, max_clauses=200)
# small, compound-heavy vocabulary: phrases across "auto-encoder"/"low-resource" and words that
# share stems or prefixes come up often
VOCAB = ["sparse", "Autoencoders", "auto-encoder", "models", "low-resource", "low", "resource", "token-free",
         "tokenizer", "x1", "fine-tuning", "finetuned", "fine", "tuning", "LLMs", "llm", "Schrödinger", "ﬁne",
         "schrodinger"]
CATEGORIES = ["cs.LG", "cs.CL", "stat.ML", "hep-ph"]


def text_strategy() -> st.SearchStrategy[str]:
    separators = st.sampled_from([" ", " ", ", ", ". ", "-", " (", ") "])
    return st.lists(st.tuples(st.sampled_from(VOCAB), separators), max_size=12).map(
        lambda parts: "".join(w + s for w, s in parts)
    )


docs_strategy = st.lists(
    st.builds(
        PaperDoc,
        id=st.none(),
        title=text_strategy(),
        abstract=text_strategy(),
        authors=st.lists(st.sampled_from(["Ada Sparse", "Low Model", "Tok Token", "A. Sparse", "Model, Lin"]),
                         max_size=2),
        categories=st.lists(st.sampled_from(CATEGORIES), max_size=2),
    ),
    min_size=1,
    max_size=12,
)


def atoms(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    field = st.sampled_from(["", "", "ti:", "abs:", "au:"])
    term = st.builds(lambda f, w: f + w, field, words)
    phrase = st.builds(lambda f, ws: f + '"' + " ".join(ws) + '"', field, st.lists(words, min_size=2, max_size=3))
    prefix = st.builds(lambda f, w: f + w[:3] + "*", field, words.filter(lambda w: len(w) >= 3 and w.isalnum()))
    category = st.sampled_from(["cat:cs.LG", "cat:cs.*", "cat:hep-ph", "cat:stat.*", "cat:cs", "cat:(cs.LG OR stat)"])
    # proximity phrases, a field on a group, a wildcard after a hyphen
    near = st.builds(lambda f, ws, n: f + '"' + " ".join(ws) + f'"~{n}', field, st.lists(words, min_size=2, max_size=3),
                     st.integers(0, 4))
    group = st.builds(lambda f, a, b: f"{f or 'ti:'}({a} OR {b})", field, words, words)
    hyphen_prefix = st.sampled_from(["fine-tun*", "low-res*", "auto-enc*", "token-f*"])
    # phrases that only match across a compound's joined form or at a compound's edge
    tricky = st.builds(
        lambda f, p: f + p,
        field,
        st.sampled_from(['"sparse autoencoders"', '"autoencoders models"', '"lowresource tokenfree"',
                         '"resource token"', '"x1 lowresource"', '"tokenfree sparse"', '"low resource token"']),
    )
    # followed people: name spellings, initials, another given name
    person = st.sampled_from(['author:"Ada Sparse"', 'author:"Sparse, A."', 'author:"Low Model"',
                              'author:"Tok Tokens"'])
    return term | term | phrase | prefix | category | tricky | near | group | hyphen_prefix | person


def queries(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    atom = atoms(words)
    return st.recursive(
        atom,
        lambda inner: st.builds(lambda a, b: f"{a} {b}", inner, inner)
        | st.builds(lambda a, b: f"({a} OR {b})", inner, inner)
        | st.builds(lambda a, b: f"{a} -{b}", inner, atom)
        | st.builds(lambda a, b: f"{a} NOT ({b})", inner, inner)
        | st.builds(lambda a, b: f"(-{a} OR {b})", atom, inner),
        max_leaves=6,
    )


def parse_valid(texts: list[str]) -> dict[int, Query]:
    parsed = {}
    for number, text in enumerate(texts):
        try:
            parsed[number * 3 + 1] = parse_query(text, LIMITS)
        except QueryError:
            continue  # exclude-only combinations are refused; the rest are compared
    return parsed


def assert_same(subscriptions: dict[int, Query], docs: list[AnalyzedDoc]) -> int:
    expected = [
        (sid, index, explanation)
        for sid, query in subscriptions.items()
        for index, doc in enumerate(docs)
        if (explanation := oracle(query, doc)) is not None
    ]
    got = [(m.subscription_id, m.doc_index, m.explanation) for m in compile_matcher(subscriptions).match(docs)]
    assert got == expected
    # web search: one batch prepared for any query, then a new one-query matcher per request; the
    # second round reads the clauses the first one remembered
    prepared = PreparedBatch(docs)
    for _round in range(2):
        one_by_one = [
            (m.subscription_id, m.doc_index, m.explanation)
            for sid, query in subscriptions.items()
            for m in compile_matcher({sid: query}).match(prepared)
        ]
        assert one_by_one == expected
    return len(expected)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(queries(st.sampled_from(VOCAB)), min_size=1, max_size=8), docs_strategy)
def test_random_queries_on_random_documents(texts: list[str], docs: list[PaperDoc]) -> None:
    subscriptions = parse_valid(texts + texts[:2])  # duplicates exercise the shared clauses
    assert_same(subscriptions, [analyze_doc(d) for d in docs])


@cache
def seed_docs() -> list[AnalyzedDoc]:
    with data_path("corpus/seed_papers.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return [analyze_doc(PaperDoc(None, r["title"], r["abstract"])) for r in records]


@cache
def seed_vocabulary() -> list[str]:
    words: set[str] = set()
    for doc in seed_docs()[:80]:
        words.update(w for w in doc.doc.title.split() if w.strip(".,:;()") == w)
    return sorted(words)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_queries_on_the_seed_corpus(data: st.DataObject) -> None:
    words = st.sampled_from(seed_vocabulary())
    texts = data.draw(st.lists(queries(words), min_size=1, max_size=10))
    assert_same(parse_valid(texts), seed_docs())


def test_fixed_queries_on_the_seed_corpus_find_matches() -> None:
    texts = ['"sparse autoencoder" -ti:sparse', "language model*", "hallucination OR halluc*", "ti:diffusion",
             '"low-resource" OR multilingual', "(reasoning OR planning) -ti:survey", "benchmark NOT evaluation"]
    assert assert_same(parse_valid(texts), seed_docs()) > 100
