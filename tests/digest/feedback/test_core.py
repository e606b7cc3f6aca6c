"""The pure feedback core on the seed corpus: no votes keeps today's order, votes lift the liked topic,
caps and reasons, and "more like this" from three seed papers finds their topic."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.feedback import Candidate, PaperText, more_like, represent, rerank, train
from digest.query import PaperDoc, match_query, parse_query
from tests.conftest import data_path


@lru_cache(maxsize=1)
def corpus() -> list[PaperText]:
    with data_path("corpus/seed_papers.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [PaperText(i, r["title"], r["abstract"]) for i, r in enumerate(rows)]


def topic(query: str) -> set[int]:
    parsed = parse_query(query)
    return {p.paper_id for p in corpus() if match_query(parsed, PaperDoc(None, p.title, p.abstract)) is not None}


@given(st.lists(st.integers(0, 10_000), unique=True, max_size=40), st.one_of(st.none(), st.integers(0, 50)))
def test_without_votes_the_order_is_todays_exactly(ids: list[int], cap: int | None) -> None:
    result = rerank([Candidate(i) for i in ids], None, max_items=cap)
    assert result.order + result.rest == ids
    assert result.order == ids[: cap if cap is not None else len(ids)]
    assert not result.learned and not result.top_picks


def test_ten_votes_put_the_liked_topic_first() -> None:
    papers = corpus()
    liked = topic('"sparse autoencoder"')
    ids = [p.paper_id for p in papers]
    voted = [i for i in ids if i in liked][:4] + [i for i in ids if i not in liked][:6]
    votes = {i: (1 if i in liked else -1) for i in voted}
    scorer = train(represent(papers), votes, context=ids)
    assert scorer is not None
    rest = [Candidate(i) for i in ids if i not in votes]
    result = rerank(rest, scorer)
    top = result.order[:10]
    assert sum(1 for i in top if i in liked) >= 6  # today's order has ~0.5 of them in its top 10
    assert result.top_picks and set(result.top_picks) <= set(top)
    assert any("papers you 👍" in reason or "paper you 👍" in reason for reason in result.reasons[top[0]])


def test_one_sided_votes_use_the_other_matches_as_context() -> None:
    papers = corpus()[:80]
    ids = [p.paper_id for p in papers]
    scorer = train(represent(papers), {ids[0]: 1}, context=ids)
    assert scorer is not None and scorer.model is not None
    scores = scorer.scores(ids)
    assert max(scores, key=lambda i: scores[i]) == ids[0]
    lonely = train(represent(papers[:2]), {ids[0]: -1})  # no context: similarity only
    assert lonely is not None and lonely.model is None
    assert lonely.scores([ids[1]])[ids[1]] <= 1.0


def test_caps_cut_to_the_rest_never_lose_a_paper() -> None:
    papers = corpus()[:60]
    ids = [p.paper_id for p in papers]
    scorer = train(represent(papers), {ids[0]: 1, ids[1]: -1}, context=ids)
    candidates = [Candidate(i) for i in ids[2:]]
    capped = rerank(candidates, scorer, max_items=5)
    assert len(capped.order) == 5 and sorted(capped.order + capped.rest) == sorted(ids[2:])
    strict = rerank(candidates, scorer, min_score=0.99)
    assert all(strict.scores[i] >= 0.99 for i in strict.order)
    assert sorted(strict.order + strict.rest) == sorted(ids[2:])


def test_match_reasons_and_votes_on_unknown_papers() -> None:
    result = rerank([Candidate(1, title_hits=1, distinct_clauses=2), Candidate(2, abstract_hits=3)], None)
    assert result.reasons == {1: ["matched in title", "2 query clauses matched"], 2: ["matched in abstract"]}
    reps = represent([PaperText(1, "a b"), PaperText(2, "")])  # poison: empty and stop-word-only texts
    assert train(reps, {99: 1}) is None  # a vote on a paper not represented is ignored
    assert represent([]).index == {}


def test_more_like_three_seed_papers_finds_their_topic() -> None:
    papers = corpus()
    wanted = topic('"sparse autoencoder"')
    seeds = sorted(wanted)[:3]
    reps = represent(papers)
    found = more_like(reps, seeds, [p.paper_id for p in papers], threshold=0.05)
    top = [paper for paper, _ in found[:10]]
    assert not set(seeds) & {paper for paper, _ in found}
    assert sum(1 for paper in top if paper in wanted) >= 7
    assert more_like(reps, seeds, [p.paper_id for p in papers], threshold=1.01) == []
    assert more_like(reps, [], [1, 2]) == []


def test_wordllama_embeddings_load_offline_and_learn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("wordllama")
    from digest.feedback.embedding import represent_as

    monkeypatch.setenv("HOME", str(tmp_path))  # no cache to fall back on: the weights come from the wheel
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    papers = corpus()
    liked = topic('"sparse autoencoder"')
    ids = [p.paper_id for p in papers]
    votes = {i: (1 if i in liked else -1) for i in [i for i in ids if i in liked][:4] + [i for i in ids
                                                                                         if i not in liked][:6]}
    reps = represent_as("wordllama", papers)
    assert reps.matrix.shape == (len(papers), 256)
    scorer = train(reps, votes, context=ids)
    assert scorer is not None
    top = rerank([Candidate(i) for i in ids if i not in votes], scorer).order[:10]
    assert sum(1 for i in top if i in liked) >= 5
    assert list(tmp_path.iterdir()) == []  # nothing downloaded or cached
    with pytest.raises(ValueError, match="unknown representation"):
        represent_as("bert", papers)
