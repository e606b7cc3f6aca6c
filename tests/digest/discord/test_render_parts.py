"""A paper's own embed parts (links, description, footer, author) are made once per paper and never go stale: any
change of what they show (upvotes, a new link, the matched words, the authors, the sources) makes them again; the bold
pattern of a set of matched words is reused across papers."""

from __future__ import annotations

from dataclasses import replace

from digest.core.assembly import DigestItem
from digest.discord.render import highlight, paper_embed


def paper(**changes: object) -> DigestItem:
    base = DigestItem(delivery_id=1, paper_id=7, subscription_id=3, query="diffusion", title="Latent diffusion",
                      abs_url="https://arxiv.org/abs/2501.00003", pdf_url="https://arxiv.org/pdf/2501.00003",
                      authors=("A. Author", "B. Author"), summary="Latent diffusion models, faster.",
                      matched_words=("diffusion",), upvotes=3, canonical_id="2501.00003")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_same_paper_in_two_digests_gets_equal_but_separate_embeds() -> None:
    first, second = paper_embed(paper()), paper_embed(paper(delivery_id=2, subscription_id=4))
    assert first == second and first is not second and first["footer"] is not second["footer"]
    first["footer"]["text"] = "changed by a caller"  # one digest's edits never reach another's embed
    assert paper_embed(paper())["footer"]["text"] == "2501.00003 · arXiv · ▲ 3 upvotes"


def test_a_change_of_what_a_part_shows_makes_it_again() -> None:
    before = paper_embed(paper())
    assert paper_embed(paper(upvotes=4))["footer"]["text"].endswith("▲ 4 upvotes")
    assert "Code" in paper_embed(paper(code_url="https://github.com/x/y"))["description"]
    assert "Code" not in before["description"]
    assert paper_embed(paper(authors=("C. Author",)))["author"]["name"] == "C. Author"
    assert paper_embed(paper(), sources=["hf:daily"])["footer"]["text"] != before["footer"]["text"]
    assert paper_embed(paper(authors=["D. Author"]))["author"]["name"] == "D. Author"
    assert "**Latent** diffusion" in paper_embed(paper(matched_words=("latent",)))["description"]
    assert "Latent **diffusion**" in before["description"]
    assert "-# #1 of the day" in paper_embed(paper(reason="#1 of the day"))["description"]
    assert "> the **diffusion** step" in paper_embed(paper(snippet="the diffusion step"))["description"]


def test_highlighting_is_the_same_with_a_remembered_pattern() -> None:
    words = ("diffusion", "latent")
    assert highlight("Latent diffusion (fast)", words) == "**Latent** **diffusion** \\(fast\\)"
    assert highlight("no diffusion_here", words) == highlight("no diffusion_here", list(words))
