"""Signed link tokens: round trip, tampering, purpose separation, expiry, address binding."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.services.tokens import Purpose, TokenError, make_token, read_token
from digest.settings import Settings

KEYED = Settings(_env_file=None, secret_key="k" * 32, confirm_token_max_age_hours=1)


@pytest.mark.parametrize("purpose", list(Purpose))
def test_round_trip(purpose: Purpose) -> None:
    claims = read_token(KEYED, purpose, make_token(KEYED, purpose, 42, "Ada@Example.org"))
    assert claims.subscriber_id == 42 and claims.matches("ada@example.org") and not claims.matches("eve@example.org")


def test_tokens_are_bound_to_their_purpose_and_key() -> None:
    token = make_token(KEYED, Purpose.UNSUBSCRIBE, 1, "a@example.org")
    with pytest.raises(TokenError):
        read_token(KEYED, Purpose.MANAGE, token)
    other = Settings(_env_file=None, secret_key="z" * 32)
    with pytest.raises(TokenError):
        read_token(other, Purpose.UNSUBSCRIBE, token)


@given(position=st.integers(min_value=0, max_value=60), char=st.sampled_from("AbZ09_-."))
def test_any_tampering_is_refused(position: int, char: str) -> None:
    token = make_token(KEYED, Purpose.MANAGE, 7, "a@example.org")
    index = position % len(token)
    tampered = token[:index] + char + token[index + 1 :]
    if tampered == token:
        return
    with pytest.raises(TokenError):
        read_token(KEYED, Purpose.MANAGE, tampered)


def test_confirm_tokens_expire_and_unsubscribe_tokens_do_not() -> None:
    confirm = make_token(KEYED, Purpose.CONFIRM, 1, "a@example.org")
    unsubscribe = make_token(KEYED, Purpose.UNSUBSCRIBE, 1, "a@example.org")
    later = time.time() + 2 * 3600
    with pytest.raises(TokenError, match="expired"):
        read_token(KEYED, Purpose.CONFIRM, confirm, now=later)
    assert read_token(KEYED, Purpose.CONFIRM, confirm, now=time.time()).subscriber_id == 1
    assert read_token(KEYED, Purpose.UNSUBSCRIBE, unsubscribe, now=later + 10**8).subscriber_id == 1


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "W10.abc.def", "%00", "WzEsMl0" * 50])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(TokenError):
        read_token(KEYED, Purpose.UNSUBSCRIBE, garbage)
