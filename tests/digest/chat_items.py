"""A matched paper as the chat renderers get it, for the chat channels' rendering tests."""

from __future__ import annotations

from digest.core.assembly import DigestItem


def item(n: int = 1, **changes: object) -> DigestItem:
    """Paper `n` matched by the query "diffusion" (fields overridden by `changes`)."""
    base: dict[str, object] = dict(delivery_id=n, paper_id=n, subscription_id=1, query="diffusion",
                                   title=f"Paper {n}", abs_url=f"https://arxiv.org/abs/2601.{n:05d}",
                                   summary="We study diffusion models.", matched_words=("diffusion",))
    base.update(changes)
    return DigestItem(**base)  # type: ignore[arg-type]
