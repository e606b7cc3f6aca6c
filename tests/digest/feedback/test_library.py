"""Library exports are hostile input: any bytes give entries or one LibraryError line, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.feedback.library import MAX_ENTRIES, LibraryError, parse_library

ZOTERO_HEADER = '"Key","Item Type","Title","Url","DOI","Extra"\n'


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["a.bib", "a.csv", "a.txt"]), st.binary(max_size=2000))
def test_any_bytes_give_entries_or_one_line(name: str, data: bytes) -> None:
    try:
        result = parse_library(name, data)
    except LibraryError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert all(entry.ref or entry.title for entry in result.entries)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.text(max_size=60))
def test_any_text_in_bibtex_fields(title: str, extra: str) -> None:
    def clean(text: str) -> str:
        return text.replace("}", "").replace("{", "")

    data = ("@article{k, title={" + clean(title) + "}, note={" + clean(extra) + "}}\n").encode()
    try:
        result = parse_library("x.bib", data)
    except LibraryError:
        return
    assert all(len(entry.title) <= 1000 for entry in result.entries)


@pytest.mark.parametrize(
    ("fields", "ref"),
    [('eprint={2410.17243}', "2410.17243"), ('journal={arXiv preprint arXiv:2312.00001}', "2312.00001"),
     ('url={https://arxiv.org/pdf/2401.00001v3}', "2401.00001"), ('eprint={hep-ph/9411242}', "hep-ph/9411242"),
     ('doi={10.1000/XYZ}', "doi:10.1000/xyz"), ('journal={Nature}, pages={1234.5678}', None)],
)
def test_where_ids_are_found(fields: str, ref: str | None) -> None:
    (entry,) = parse_library("x.bib", f"@article{{k, title={{T}}, {fields}}}".encode()).entries
    assert entry.ref == ref


def test_too_many_entries_is_refused_whole() -> None:
    rows = "".join(f'"K{n}","preprint","Paper {n}","","",""\n' for n in range(MAX_ENTRIES + 1))
    with pytest.raises(LibraryError, match="more than"):
        parse_library("z.csv", (ZOTERO_HEADER + rows).encode())
