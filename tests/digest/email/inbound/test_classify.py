"""The classifier never raises on hostile input, and reads the unsubscribe token wherever a person puts it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.email.inbound.classify import Kind, classify
from tests.digest.email.inbound import samples


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.emails(), max_size=3))
def test_arbitrary_bytes_classify_without_raising(raw: bytes, rcpts: list[str]) -> None:
    assert classify(raw, rcpts).kind in set(Kind)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_mangled_dsns_classify_without_raising(junk: str) -> None:
    raw = samples.dsn("a@example.org", junk[:40], junk[40:60], junk[60:], "x@y.org").replace(b"\r\n\r\n", b"\r\n", 1)
    assert classify(raw, ["x@y.org"]).kind in set(Kind)


@pytest.mark.parametrize(
    ("subject", "rcpt", "kind", "token"),
    [
        ("unsubscribe a.b.c", "unsubscribe@b.test", Kind.UNSUBSCRIBE, "a.b.c"),
        ("Re: unsubscribe a.b.c", "digest@b.test", Kind.UNSUBSCRIBE, "a.b.c"),
        ("hello", "unsubscribe@b.test", Kind.UNSUBSCRIBE, None),
        ("hello there", "digest@b.test", Kind.IGNORED, None),
    ],
)
def test_unsubscribe_mail(subject: str, rcpt: str, kind: Kind, token: str | None) -> None:
    report = classify(samples.plain(subject, rcpt), [rcpt])
    assert (report.kind, report.token) == (kind, token)
