"""Metadata beside the words, warm labels, one-sided votes and "what it learned", on real listings.

The fixture is 148 papers of two real arXiv listing days (cs.LG, with its cs.RO cross-lists and a
few papers evaluated on LIBERO), copied from the shared arxiv_2026 corpus (arXiv metadata, CC0).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from digest.feedback import Candidate, PaperText, rerank, train
from digest.feedback.explain import learned_features
from digest.feedback.features import meta_blocks
from digest.feedback.meta import PaperMeta, has_code, upvotes_of
from digest.feedback.term_counts import represent_hashed

FIXTURE = Path(__file__).parent / "fixtures" / "listings_sample.jsonl"


@lru_cache(maxsize=1)
def records() -> list[dict]:
    with FIXTURE.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def texts() -> list[PaperText]:
    return [PaperText(n, r["title"], r["abstract"]) for n, r in enumerate(records())]


def metas() -> list[PaperMeta]:
    return [PaperMeta(n, tuple(r["categories"]), tuple(r["authors"])) for n, r in enumerate(records())]


def robotics() -> set[int]:
    return {n for n, r in enumerate(records()) if "cs.RO" in r["categories"]}


def votes_for_robotics(likes: int = 3, dislikes: int = 6) -> dict[int, int]:
    wanted = robotics()
    ids = range(len(records()))
    return {**{n: 1 for n in [i for i in ids if i in wanted][:likes]},
            **{n: -1 for n in [i for i in ids if i not in wanted][:dislikes]}}


def ranked(votes: dict[int, int], *, with_meta: bool) -> list[int]:
    ids = list(range(len(records())))
    scorer = train(represent_hashed(texts()), votes, context=ids, meta=meta_blocks(metas()) if with_meta else None)
    return rerank([Candidate(n) for n in ids if n not in votes], scorer).order


def test_categories_learn_a_cross_listing_interest_words_alone_miss() -> None:
    votes = votes_for_robotics()
    with_meta = sum(n in robotics() for n in ranked(votes, with_meta=True)[:10])
    words_only = sum(n in robotics() for n in ranked(votes, with_meta=False)[:10])
    assert with_meta >= 8  # 9 cs.RO cross-lists are left among 139 papers
    assert with_meta > words_only


def test_what_it_learned_names_the_cross_listing_in_plain_words() -> None:
    votes = votes_for_robotics()
    ids = list(range(len(records())))
    scorer = train(represent_hashed(texts()), votes, context=ids, meta=meta_blocks(metas()))
    liked = [texts()[n] for n, v in votes.items() if v > 0]
    phrases = learned_features(scorer, liked)
    assert "cross-listed to cs.RO" in phrases
    assert 1 <= len(phrases) <= 5


def test_what_it_learned_names_a_benchmark_the_liked_papers_mention() -> None:
    ids = list(range(len(records())))
    libero = [n for n, r in enumerate(records()) if "LIBERO" in r["abstract"]][:4]
    votes = {**{n: 1 for n in libero}, **{n: -1 for n in ids[-6:]}}
    scorer = train(represent_hashed(texts()), votes, context=ids)
    phrases = learned_features(scorer, [texts()[n] for n in libero], limit=5)
    assert "mentions LIBERO" in phrases


def test_authors_are_one_phrase_naming_them() -> None:
    liked = [n for n, r in enumerate(records()) if len(r["authors"]) <= 3][:2]
    votes = {**dict.fromkeys(liked, 1), **{n: -1 for n in range(100, 106)}}
    scorer = train(represent_hashed(texts()), votes, context=list(range(len(records()))), meta=meta_blocks(metas()))
    phrases = learned_features(scorer, [texts()[n] for n in liked], limit=5)
    said = [p for p in phrases if p.startswith("by authors you liked (")]
    assert len(said) == 1 and sum(p.startswith("by ") for p in phrases) == 1
    assert any(a in said[0] for n in liked for a in records()[n]["authors"])


def test_nothing_learned_says_nothing() -> None:
    assert learned_features(None, []) == []
    only_down = train(represent_hashed(texts()), {0: -1}, context=list(range(len(records()))))
    assert learned_features(only_down, []) == []


def test_only_dislikes_push_their_kind_down_and_keep_the_rest_in_place() -> None:
    ids = list(range(len(records())))
    disliked = sorted(robotics())[:3]
    scorer = train(represent_hashed(texts()), dict.fromkeys(disliked, -1), context=ids, meta=meta_blocks(metas()))
    order = rerank([Candidate(n) for n in ids if n not in disliked], scorer).order
    remaining = robotics() - set(disliked)
    assert all(order.index(n) > len(order) // 2 for n in remaining)


def test_warm_labels_start_the_ranking_and_own_votes_replace_them() -> None:
    reps, meta, ids = represent_hashed(texts()), meta_blocks(metas()), list(range(len(records())))
    warm = {n: (1, 0.5) for n in sorted(robotics())[:3]} | {n: (-1, 0.5) for n in ids[-5:]}
    scorer = train(reps, {}, context=ids, meta=meta, warm=warm)
    assert scorer is not None and scorer.model is not None
    first = sorted(robotics())[0]
    overruled = train(reps, {first: -1}, context=ids, meta=meta, warm=warm)
    assert overruled is not None and first in overruled.disliked and first not in overruled.liked
    assert train(reps, {}, context=ids, meta=meta, warm={}) is None
    assert train(reps, {}, context=ids, warm={0: (1, 0.0)}) is None  # a weightless label is no label


@pytest.mark.parametrize(("extras", "abstract", "expected"), [
    ({"github_repo": "https://github.com/a/b"}, "", True),
    ({}, "Code: https://github.com/x/y.", True),
    ({}, "We release code soon.", False),
    (None, "", False),
])
def test_code_link(extras: dict | None, abstract: str, expected: bool) -> None:
    assert has_code(extras, abstract) is expected


@pytest.mark.parametrize(("extras", "expected"), [
    ({"upvotes": 12}, 12), ({"upvotes": "7"}, 7), ({"upvotes": "many"}, None), ({}, None), (None, None),
])
def test_upvotes_from_hostile_extras(extras: dict | None, expected: int | None) -> None:
    assert upvotes_of(extras) == expected


def test_metadata_names_read_as_plain_words() -> None:
    named = PaperMeta(1, ("cs.LG", "cs.RO"), ("Ada  Lovelace",), upvotes=30, code=True).named()
    assert set(named["category"]) == {"in cs.LG", "in cs.RO", "primary cs.LG"}
    assert set(named["author"]) == {"by Ada Lovelace"}
    assert set(named["signal"]) == {"on Hugging Face", "Hugging Face upvotes", "with code"}
    assert 0 < named["signal"]["Hugging Face upvotes"] < 1
    assert meta_blocks([]).matrix.shape[0] == 0
