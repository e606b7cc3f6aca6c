"""The pure lifecycle rules: which changes between two snapshots of a paper are events, how they are
worded, and how a reader's list of kinds is read (hostile text refused with one line)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.lifecycle import (
    CODE,
    KINDS,
    NEW_VERSION,
    PUBLISHED,
    PaperFacts,
    UpdateKindsError,
    describe,
    detect_events,
    facts,
    parse_kinds,
)

BASE = facts(1, "A title", "An abstract.", None, {})


def with_(**changes: object) -> PaperFacts:
    return PaperFacts(**{**BASE.__dict__, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("after", "comment", "expected"), [
    (BASE, None, []),
    (with_(version=2), "12 pages, ICLR 2027", [(NEW_VERSION, "v2", {"version": 2, "previous": 1,
                                                                     "comment": "12 pages, ICLR 2027"})]),
    (with_(version=3, title="A  new title", abstract="Other."), None,
     [(NEW_VERSION, "v3", {"version": 3, "previous": 1, "old_title": "A title", "new_title": "A  new title",
                           "abstract_changed": True})]),
    (with_(version=2, title="a TITLE"), None, [(NEW_VERSION, "v2", {"version": 2, "previous": 1})]),  # case only
    (with_(version=None), None, []),
    (with_(doi="10.1/x"), None, [(PUBLISHED, PUBLISHED, {"doi": "10.1/x"})]),
    (with_(journal_ref="Phys. Rev. D 1"), None, [(PUBLISHED, PUBLISHED, {"journal_ref": "Phys. Rev. D 1"})]),
    (with_(code_links=("https://github.com/a/b",)), None, [(CODE, "https://github.com/a/b",
                                                              {"url": "https://github.com/a/b"})]),
    (with_(code_links=("https://github.com/" + "a" * 300,)), None, []),  # longer than the key column: not stored
])
def test_events_between_two_snapshots(
    after: PaperFacts, comment: str | None, expected: list[tuple[str, str, dict[str, object]]]
) -> None:
    assert [(e.kind, e.key, e.detail) for e in detect_events(BASE, after, comment)] == expected


def test_no_event_for_a_paper_without_a_known_version_or_once_published() -> None:
    assert detect_events(with_(version=None), with_(version=4)) == []
    published = with_(doi="10.1/x")
    assert detect_events(published, with_(doi="10.1/x", journal_ref="J. 1")) == []  # published once per paper
    assert [e.kind for e in detect_events(with_(code_links=("u1",)), with_(code_links=("u1", "u2")))] == [CODE]


def test_a_hostile_comment_is_clipped_to_one_line() -> None:
    [event] = detect_events(BASE, with_(version=2), "a\n\n" + "x" * 5000)
    assert "\n" not in event.detail["comment"] and len(event.detail["comment"]) == 300


def test_wording_says_what_happened_and_why() -> None:
    received = datetime(2026, 12, 3, 9, tzinfo=UTC)
    assert describe(NEW_VERSION, {"version": 2, "comment": "accepted"}, received) == (
        "v2 appeared (you received this on 3 Dec); comment: accepted")
    assert describe(PUBLISHED, {"journal_ref": "J. 1", "doi": "10.1/x"}, received) == (
        "published: J. 1, DOI 10.1/x (you received this on 3 Dec)")
    assert describe(CODE, {"url": "https://github.com/a/b"}, received) == (
        "code released: https://github.com/a/b (you received this on 3 Dec)")


@pytest.mark.parametrize(("text", "kinds"), [
    ("", ()), ("none", ()), ("all", KINDS), ("version, code", (NEW_VERSION, CODE)), ("DOI", (PUBLISHED,)),
    ("code,new-version,code", (NEW_VERSION, CODE)),
])
def test_kinds_as_readers_type_them(text: str, kinds: tuple[str, ...]) -> None:
    assert parse_kinds(text) == kinds


@given(st.text(max_size=200))
def test_any_text_is_kinds_or_one_line_refusal(text: str) -> None:
    try:
        chosen = parse_kinds(text)
    except UpdateKindsError as exc:
        assert "\n" not in str(exc).replace(text, "") and "use any of new-version, published, code" in str(exc)
        return
    assert set(chosen) <= set(KINDS)
