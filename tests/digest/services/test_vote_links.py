"""Vote tokens: round trip, bound to the address, and any string is either well-formed or refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.services.tokens import TokenError
from digest.services.vote_links import read_vote_token, verify, vote_token
from digest.settings import Settings

SETTINGS = Settings(_env_file=None, secret_key="k" * 40)  # type: ignore[call-arg]


@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_round_trip_and_address_binding(subscriber: int, paper: int) -> None:
    token = vote_token(SETTINGS, subscriber, "ada@example.org", paper)
    claims = read_vote_token(token)
    assert (claims.subscriber_id, claims.paper_id) == (subscriber, paper)
    verify(SETTINGS, claims, "ADA@example.org ")  # the fingerprint ignores case and spaces
    with pytest.raises(TokenError):
        verify(SETTINGS, claims, "eve@example.org")


@given(st.text(max_size=200))
def test_any_string_is_well_formed_or_refused(text: str) -> None:
    try:
        claims = read_vote_token(text)
    except TokenError as exc:
        assert "not valid" in str(exc)
        return
    with pytest.raises(TokenError):
        verify(SETTINGS, claims, "ada@example.org")
