"""Analysis for scientific English, table-driven: each row of the analyser's table, both engines.

Every case is checked on the one-by-one evaluator and the compiled matcher, and in both
directions where the rule is symmetric (what the text side indexes, the query side reaches).
"""

from __future__ import annotations

import gc
import threading

import pytest

from digest.query import PaperDoc, analysis, compile_matcher, match_query, parse_query, stemming


def matches(query: str, text: str) -> bool:
    doc = PaperDoc(None, text, "")
    parsed = parse_query(query)
    oracle = match_query(parsed, doc) is not None
    compiled = bool(compile_matcher({1: parsed}).match([doc]))
    assert oracle == compiled, (query, text)
    return oracle


# (query, text): must match; symmetric rows are also checked with query and text swapped
SAME_WORD = [
    ("llm", "llms"),
    ("LLM", "LLMs"),
    ("GAN", "GANs"),
    ("RNN", "RNNs"),
    ("GPT", "GPTs"),
    ("SAE", "SAEs"),
    ("VLM", "VLMs"),
    ("GPU", "GPUs"),
    ("LM", "LMs"),
    ("tuning", "tuned"),
    ("trained", "training"),
    ("study", "studies"),
    ("studied", "study"),
    ("movie", "movies"),
    ("policy", "policies"),
    ("played", "playing"),
    ("using", "used"),
    ("embedding", "embeddings"),
    ("embed", "embedded"),
    ("modeling", "modelling"),
    ("bias", "biases"),
    ("analysis", "analyses"),
    ("experience", "experienced"),
    ("transformer", "Transformers"),
    ("settings", "setting"),
    ("Schrödinger", "schrodinger"),
    ("naïve", "naive"),
    ("schro\u0308dinger", "Schrödinger"),  # NFD
    ("ＧＰＴ", "GPT"),  # full-width
    ("ﬁne", "fine"),  # ligature
    ("Strasse", "straße"),  # case folding, not just lower()
]


@pytest.mark.parametrize(("query", "text"), SAME_WORD)
def test_one_word_both_ways(query: str, text: str) -> None:
    assert matches(query, text)
    assert matches(text, query)


# derivation is not inflection: these never meet, in either direction
DIFFERENT_WORDS = [
    ("transformer", "transform"),
    ("transformer", "transformation"),
    ("experience", "experiment"),
    ("experience", "experiments"),
    ("agentic", "agent"),
    ("agentic", "agents"),
    ("reasoning", "reason"),
    ("settings", "sets"),
    ("news", "new"),
    ("learner", "learning"),
    ("encoder", "encoding"),
    ("generative", "generation"),
    ("llm", "llama"),
    ("sae", "sea"),
]


@pytest.mark.parametrize(("query", "text"), DIFFERENT_WORDS)
def test_derivations_stay_apart(query: str, text: str) -> None:
    assert not matches(query, text)
    assert not matches(text, query)


# a hyphenated or spaced compound in the query: its joined, hyphenated and spaced spellings
COMPOUNDS = [
    ("fine-tuning", ["finetuning", "fine-tuning", "fine tuning", "finetuned", "Fine-Tuned", "fine\u2011tuning"]),
    ("gpt-4", ["GPT4", "GPT-4", "GPT 4", "gpt-4"]),
    ("3-D", ["3D", "3-D", "3 D", "3d"]),
    ("GPT4", ["GPT4", "GPT-4", "GPT 4"]),  # a letters/digits boundary splits like a hyphen
    ("3d", ["3D", "3-D", "3 D"]),
    ("llama2", ["Llama 2", "LLaMA-2", "llama2"]),
    ("pre-training", ["pretraining", "pre-trained", "pre training", "Pretrained"]),
    ("multi-modal", ["multimodal", "multi-modal", "multi modal"]),
    ("auto-encoder", ["autoencoders", "auto-encoder", "auto encoder", "Autoencoder"]),
    ("ﬁne-tuning", ["finetuning", "fine tuning"]),
    ("fine\u2011tuning", ["finetuning", "fine tuning", "fine-tuned"]),  # non-breaking hyphen in the query
    ('"fine tuning"', ["fine tuning", "fine-tuned"]),
]


@pytest.mark.parametrize(("query", "texts"), COMPOUNDS)
def test_compounds_match_every_spelling(query: str, texts: list[str]) -> None:
    for text in texts:
        assert matches(query, f"we study {text} here"), text


@pytest.mark.parametrize(
    ("query", "text"),
    [("fine-tuning", "fine and tuning"), ("gpt-4", "GPT 3 and 4"), ("3-D", "3 2 D"), ("multi-modal", "multi"),
     ("gpt4", "GPT 3 and 4"), ("gpt4", "GPT-4o")],
)
def test_compounds_do_not_match_their_parts_apart(query: str, text: str) -> None:
    assert not matches(query, text)


def test_explanations_name_the_variant_that_matched() -> None:
    doc = PaperDoc(None, "We finetuned GPT4", "Fine-tuning is cheap; fine tuning too.")
    explanation = match_query(parse_query("fine-tuning gpt-4"), doc)
    assert explanation is not None
    assert {"finetuned", "GPT4", "Fine", "tuning", "fine"} <= set(explanation.matched_words)
    compiled = compile_matcher({1: parse_query("fine-tuning gpt-4")}).match([doc])
    assert compiled[0].explanation == explanation
    assert explanation.abstract_hits == 2  # "Fine-tuning" once (not again as its joined form), "fine tuning"


def test_concurrent_analysis_with_a_tiny_cache_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """Previews run in worker threads while a match cycle runs: no shared stemmer state, a cache
    emptied under their feet (limit 50) changes nothing, and the cache stays bounded."""
    from tests.digest.query.labelled_truth import load_corpus

    docs = [PaperDoc(None, r["title"], r["abstract"]) for r in load_corpus()[:120]]
    queries = {n: parse_query(q) for n, q in enumerate(["llm", "fine-tuning", "transformer", '"language models"~2'])}
    expected = [(m.subscription_id, m.doc_index) for m in compile_matcher(queries).match(docs)]
    monkeypatch.setattr(stemming, "CACHE_LIMIT", 50)
    analysis.stem_cache.clear()
    results: list[list[tuple[int, int]]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append([(m.subscription_id, m.doc_index) for m in compile_matcher(queries).match(docs)])
        except BaseException as exc:  # reported below: a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [expected] * 6
    assert len(analysis.stem_cache) <= 50
    analysis.stem_cache.clear()


def test_matched_variants_drive_email_and_discord_highlighting() -> None:
    from digest.core.templating import highlight as email_highlight
    from digest.discord.render import highlight as discord_highlight

    title = "We finetuned LLMs on naïve fine tuning data"
    explanation = match_query(parse_query('fine-tuning llm naive'), PaperDoc(None, title, ""))
    assert explanation is not None
    assert str(email_highlight(title, explanation.matched_words)) == (
        "We <mark>finetuned</mark> <mark>LLMs</mark> on <mark>naïve</mark> <mark>fine</mark> <mark>tuning</mark> data"
    )
    assert discord_highlight(title, explanation.matched_words) == (
        "We **finetuned** **LLMs** on **naïve** **fine** **tuning** data"
    )


def test_stem_pairs_are_unambiguous_keys_that_never_span_an_author_gap() -> None:
    doc = analysis.analyze_doc(PaperDoc(None, "", "", ["Ann Smith", "Bob Jones"]))
    pairs = analysis.stem_pairs(doc.fields[analysis.AUTHORS])
    key = analysis.pair_key
    assert key("@ann", "@smith") in pairs  # names are keyed unstemmed, marked apart from words
    assert key("@smith", "@bob") not in pairs  # the gap between two authors
    assert all(part for pair in pairs for part in pair.split(analysis.PAIR_SEPARATOR))
    assert key("ab", "c") != key("a", "bc")


@pytest.mark.parametrize(
    ("query", "authors", "expected"),
    [('au:"ann smith"', ["Ann Smith", "Bob Jones"], True), ('au:"smith bob"', ["Ann Smith", "Bob Jones"], False)],
)
def test_author_phrases_stay_within_one_name(query: str, authors: list[str], expected: bool) -> None:
    doc = PaperDoc(None, "", "", authors)
    parsed = parse_query(query)
    assert (match_query(parsed, doc) is not None) == expected
    assert bool(compile_matcher({1: parsed}).match([doc])) == expected


def test_an_analysed_paper_keeps_nothing_the_garbage_collector_traverses_again() -> None:
    """The cycle keeps a batch of papers analysed: what matching reads of them must be tuples of
    strings, which the collector untracks once seen (lists and sets it traverses at every full
    collection, and 4,000 papers' worth cost 0.2 s, inside the match)."""
    doc = analysis.prepare_for_matching(analysis.analyze_doc(PaperDoc(
        None, "Low-resource LLMs", "We fine-tune large language models. They reason.", ["Ann Smith", "Bob Jones"],
    )))
    gc.collect()
    gc.collect()  # a tuple of tuples is untracked one level per collection (`joined`)
    for name, text in doc.fields.items():
        held = {"sequence": text.sequence, "surfaces": text.surfaces, "joined": text.joined,
                "tokens": text.tokens(), "stems": text.stem_sequence(), "pairs": analysis.stem_pairs(text)}
        assert [part for part, value in held.items() if gc.is_tracked(value)] == [], name
    abstract = doc.fields[analysis.ABSTRACT]
    assert sorted(abstract.tokens()) == sorted(set(abstract.sequence) | {"finetune"})
    assert len(analysis.stem_pairs(abstract)) == len(set(analysis.stem_pairs(abstract)))
