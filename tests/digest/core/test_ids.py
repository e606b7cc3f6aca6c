"""Canonical ids: table-driven cases and hypothesis properties of the normalizer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.ids import arxiv_id, canonical_id, hash_id, normalize_doi, normalize_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2410.17243", ("2410.17243", None)),
        ("2410.17243v3", ("2410.17243", 3)),
        ("0704.0001", ("0704.0001", None)),
        ("oai:arXiv.org:2504.17830v1", ("2504.17830", 1)),
        ("http://arxiv.org/abs/nucl-ex/0408020v1", ("nucl-ex/0408020", 1)),
        ("https://arxiv.org/pdf/1309.4668v2", ("1309.4668", 2)),
        ("https://arxiv.org/pdf/1309.4668v2.pdf", ("1309.4668", 2)),
        ("hep-ph/9411242", ("hep-ph/9411242", None)),
        ("arXiv:math.AG/0301001v2", ("math.AG/0301001", 2)),
        ("arXiv:2410.17243", ("2410.17243", None)),
        ("  2410.17243v12 ", ("2410.17243", 12)),
        ("https://example.org/paper/1", None),
        ("10.1103/PhysRevD.103.096005", None),
        ("", None),
        ("24101.7243", None),
    ],
)
def test_arxiv_id(text: str, expected: tuple[str, int | None] | None) -> None:
    assert arxiv_id(text) == expected


@pytest.mark.parametrize(
    ("candidates", "doi", "expected_prefix"),
    [
        (("https://arxiv.org/abs/2410.17243v2",), None, "2410.17243"),
        (("https://journal.example/article/7",), "https://doi.org/10.1000/ABC.7", "doi:10.1000/abc.7"),
        (("https://journal.example/article/7",), None, "hash:"),
        ((None,), None, None),
    ],
)
def test_canonical_id(candidates: tuple[str | None, ...], doi: str | None, expected_prefix: str | None) -> None:
    found = canonical_id(*candidates, doi=doi)
    if expected_prefix is None:
        assert found is None
    else:
        assert found is not None and found[0].startswith(expected_prefix)


new_ids = st.builds(
    lambda yy, mm, n, five: f"{yy:02d}{mm:02d}.{n:05d}" if five else f"{yy:02d}{mm:02d}.{n % 10000:04d}",
    st.integers(7, 99), st.integers(1, 12), st.integers(0, 99999), st.booleans(),
)
old_ids = st.builds(
    lambda archive, number: f"{archive}/{number:07d}",
    st.sampled_from(["hep-ph", "hep-th", "math", "cond-mat", "quant-ph", "astro-ph", "nucl-ex"]),
    st.integers(0, 9_999_999),
)
wrappers = st.sampled_from(
    ["{}", "arXiv:{}", "oai:arXiv.org:{}", "http://arxiv.org/abs/{}", "https://arxiv.org/pdf/{}", "https://arxiv.org/pdf/{}.pdf"]
)


@given(ident=st.one_of(new_ids, old_ids), version=st.one_of(st.none(), st.integers(1, 99)), wrapper=wrappers)
def test_every_spelling_gives_the_same_id(ident: str, version: int | None, wrapper: str) -> None:
    text = wrapper.format(ident + (f"v{version}" if version else ""))
    assert arxiv_id(text) == (ident, version)


@given(st.text(max_size=200))
def test_normalizer_is_total_and_idempotent(text: str) -> None:
    found = arxiv_id(text)  # never raises
    if found is not None:
        assert arxiv_id(found[0]) == (found[0], None)
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "  " not in once and once == once.strip()


@given(st.text(min_size=1, max_size=80), st.sampled_from([" ", "\n", "  \t"]))
def test_hash_id_is_stable_under_whitespace_and_case(title: str, space: str) -> None:
    spaced = space + title.replace(" ", space) + space
    assert hash_id(spaced) == hash_id(title)
    assert hash_id(title).startswith("hash:") and len(hash_id(title)) == 21


@given(st.from_regex(r"[A-Za-z][A-Za-z ]{0,40}", fullmatch=True))
def test_hash_id_ignores_case(title: str) -> None:
    assert hash_id(title.upper()) == hash_id(title.lower())


@given(st.from_regex(r"10\.\d{4,6}/[A-Za-z0-9.\-]{1,20}", fullmatch=True))
def test_doi_normalization(doi: str) -> None:
    assert normalize_doi(f"https://doi.org/{doi}") == normalize_doi(doi.upper()) == doi.lower().rstrip(".")
