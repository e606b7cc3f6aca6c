"""Every parser on the recorded fixtures (and both arXiv API formats): complete records, exact counts."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from digest.core.records import PaperRecord
from digest.sources.arxiv_api import parse_arxiv_api
from digest.sources.base import SourceError
from digest.sources.feeds import parse_feed
from digest.sources.files import parse_file_bytes
from digest.sources.hf_daily import parse_hf_daily
from tests.conftest import data_path
from tests.digest.sources.builders import XML_BOMB

HERE = Path(__file__).parent / "data"
HF_PAPERS = "https://huggingface.co/papers"
API = data_path("fixtures/arxiv_api/query.xml")
RSS = data_path("fixtures/arxiv_rss/quant-ph-2025-04-28.xml")
HF = data_path("fixtures/hf_daily_papers/2024-10-25.json")
SEED = data_path("corpus/seed_papers.jsonl")


def assert_complete(record: PaperRecord, *, dates: bool = True, categories: bool = True) -> None:
    assert record.canonical_id and record.title and record.abstract
    assert record.title == " ".join(record.title.split())
    assert record.abstract == " ".join(record.abstract.split())
    assert record.authors and all(a.strip() for a in record.authors)
    assert record.abs_url and record.pdf_url
    if categories:
        assert record.categories and record.primary_category in record.categories
    if dates:
        assert record.published_at is not None and record.published_at.tzinfo is not None


@pytest.mark.parametrize(
    ("path", "count", "total"),
    [(API, 10, 7432), (data_path("fixtures/arxiv_api/query_missing_id.xml"), 1, 1),
     (data_path("fixtures/arxiv_api/query_empty.xml"), 0, 0), (HERE / "arxiv_api_old_format.xml", 2, 1000)],
)
def test_arxiv_api_both_formats(path: Path, count: int, total: int) -> None:
    parsed = parse_arxiv_api(path.read_bytes(), "arxiv-api:test")
    assert (len(parsed.records), parsed.malformed, parsed.total_results) == (count, 0, total)
    for record in parsed.records:
        assert_complete(record)
        assert record.version is not None and record.updated_at is not None


def test_arxiv_api_fields() -> None:
    records = {r.canonical_id: r for r in parse_arxiv_api(API.read_bytes(), "s").records}
    old = records["nucl-ex/0408020"]
    assert (old.version, old.primary_category, old.categories) == (1, "nucl-ex", ["nucl-ex", "hep-ph"])
    assert old.authors[0] == "J. Arrington" and len(old.authors) == 9
    cern = records["1309.4668"]
    assert cern.doi == "10.5170/cern-2013-002.237" and cern.extras["journal_ref"].startswith("CERN Yellow")
    legacy = {r.canonical_id: r for r in parse_arxiv_api((HERE / "arxiv_api_old_format.xml").read_bytes(), "s").records}
    h1 = legacy["hep-ex/0307015"]
    assert h1.title == "Multi-Electron Production at High Transverse Momenta in ep Collisions at HERA"
    assert h1.doi == "10.1140/epjc/s2003-01326-x"
    assert h1.pdf_url == "http://arxiv.org/pdf/hep-ex/0307015v1" and h1.abs_url == "http://arxiv.org/abs/hep-ex/0307015v1"
    latex = legacy["0710.1234"]
    assert latex.title == r"Electron spin in $\mathrm{GaAs}$ quantum dots"  # LaTeX kept as written
    assert latex.abstract == r"We study the electron spin $S=\frac{1}{2}$ in quantum dots."
    assert (latex.version, latex.primary_category) == (2, "cond-mat.mes-hall")


def test_arxiv_api_old_format_error_entry_fails_the_document() -> None:
    with pytest.raises(SourceError, match="incorrect id format"):
        parse_arxiv_api((HERE / "arxiv_api_old_error.xml").read_bytes(), "s")


def test_announcement_feed() -> None:
    parsed = parse_feed(RSS.read_bytes(), "arxiv:quant-ph")
    assert (len(parsed.records), parsed.malformed) == (81, 0)
    types = Counter(r.announce_type for r in parsed.records)
    assert types == {"new": 40, "replace": 22, "cross": 10, "replace-cross": 9}
    for record in parsed.records:
        assert_complete(record)
        assert record.version is not None
    by_id = {r.canonical_id: r for r in parsed.records}
    first = by_id["2504.17830"]
    assert first.abstract.startswith(r"We introduce a self-adjoint time operator \(T_w = i\hbar")  # LaTeX kept
    assert "Announce Type" not in first.abstract
    assert by_id["2504.17837"].authors == ["Youssef Kora", "Christoph Simon"]
    assert by_id["2112.14988"].version == 4 and by_id["2112.14988"].is_replacement


def test_hf_daily() -> None:
    parsed = parse_hf_daily(HF.read_bytes(), "hf:daily", HF_PAPERS)
    assert (len(parsed.records), parsed.malformed) == (29, 0)
    for record in parsed.records:
        assert_complete(record, categories=False)
        assert record.extras["hf_url"] == f"{HF_PAPERS}/{record.canonical_id}"
        assert isinstance(record.extras["upvotes"], int) and "num_comments" in record.extras
    first = parsed.records[0]
    assert first.canonical_id == "2410.17243" and first.extras["upvotes"] == 64 and first.extras["num_comments"] == 3
    assert "\n" not in first.title


def test_hf_extras_of_newer_responses() -> None:
    body = (b'[{"paper": {"id": "2501.00001", "title": "T", "summary": "S", "upvotes": 3, '
            b'"ai_summary": "Short.", "ai_keywords": ["a", "b"], "githubRepo": "https://github.com/x/y", '
            b'"projectPage": "https://x.io"}, "numComments": 1, '
            b'"thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2501.00001.png"}, '
            b'{"paper": {"title": "no id"}}, 7]')
    parsed = parse_hf_daily(body, "hf:daily", HF_PAPERS)
    assert parsed.malformed == 2
    assert parsed.records[0].extras == {
        "hf_url": f"{HF_PAPERS}/2501.00001", "upvotes": 3, "ai_summary": "Short.", "ai_keywords": ["a", "b"],
        "github_repo": "https://github.com/x/y", "project_page": "https://x.io", "num_comments": 1,
        "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2501.00001.png",
    }


def test_seed_corpus_jsonl() -> None:
    kind, parsed = parse_file_bytes(SEED.read_bytes(), "file:seed", papers_url=HF_PAPERS)
    assert kind == "jsonl" and (len(parsed.records), parsed.malformed) == (393, 0)
    assert len({r.canonical_id for r in parsed.records}) == 393
    assert all(r.canonical_id.startswith("hash:") and r.title and r.abstract for r in parsed.records)
    dated = [r for r in parsed.records if r.published_at is not None]
    assert len(dated) == 13  # 14 rows have a date; "May 28" has no year and is kept as text
    ariel = next(r for r in parsed.records if r.title.startswith("AriEL"))
    assert ariel.published_at is not None and ariel.published_at.date().isoformat() == "2020-03-30"
    assert ariel.extras["n_authors"] == 3
    # the hash id is stable: computed again from the same title
    again = parse_file_bytes(SEED.read_bytes(), "file:other", papers_url=HF_PAPERS)[1]
    assert [r.canonical_id for r in again.records] == [r.canonical_id for r in parsed.records]


def _without_source(records: list[PaperRecord]) -> list[dict[str, object]]:
    return [{k: v for k, v in dataclasses.asdict(r).items() if k != "source"} for r in records]


@pytest.mark.parametrize(
    ("path", "kind", "live"),
    [
        (API, "arxiv-api", lambda body: parse_arxiv_api(body, "x")),
        (HERE / "arxiv_api_old_format.xml", "arxiv-api", lambda body: parse_arxiv_api(body, "x")),
        (RSS, "feed", lambda body: parse_feed(body, "x")),
        (HF, "hf-daily", lambda body: parse_hf_daily(body, "x", HF_PAPERS)),
    ],
)
def test_saved_responses_yield_the_live_records(path: Path, kind: str, live) -> None:  # type: ignore[no-untyped-def]
    detected, parsed = parse_file_bytes(path.read_bytes(), "file:x", papers_url=HF_PAPERS)
    assert detected == kind
    assert _without_source(parsed.records) == _without_source(live(path.read_bytes()).records)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (XML_BOMB, "unsafe XML"),
        (RSS.read_bytes()[:5000], "malformed XML"),
        (b"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>\xff\xfe</title></channel></rss>",
         "malformed XML"),
        (b'[{"title": "x", "abstract": "\xff"}]', "invalid UTF-8"),
        (b"just some text", "unrecognised file format"),
        (b"", "unrecognised file format"),
    ],
)
def test_bad_documents_fail_with_a_reason(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_file_bytes(body, "file:x", papers_url=HF_PAPERS)


def test_generic_feed_ids() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">
  <title>Journal</title><updated>2025-01-02T00:00:00Z</updated>
  <entry><id>tag:journal,2025:1</id><title>With DOI</title><prism:doi>10.1000/XYZ.1</prism:doi>
    <link href="https://journal.example/1"/>
    <summary type="html">&lt;p&gt;Some &lt;b&gt;bold&lt;/b&gt; text&lt;/p&gt;</summary>
    <author><name>A</name></author><updated>2025-01-01T00:00:00Z</updated></entry>
  <entry><id>tag:journal,2025:2</id><title>Plain</title><link href="https://journal.example/2"/>
    <updated>2025-01-01T00:00:00Z</updated></entry>
  <entry><id>tag:journal,2025:3</id><title>From arXiv</title><link href="https://arxiv.org/abs/2501.01234v3"/></entry>
  <entry><id>tag:journal,2025:4</id><title></title></entry>
</feed>"""
    parsed = parse_feed(atom, "feed:x")
    assert parsed.malformed == 1
    doi, plain, arxiv = parsed.records
    assert (doi.canonical_id, doi.doi, doi.abstract) == ("doi:10.1000/xyz.1", "10.1000/xyz.1", "Some bold text")
    assert plain.canonical_id.startswith("hash:") and plain.abs_url == "https://journal.example/2"
    assert (arxiv.canonical_id, arxiv.version) == ("2501.01234", 3)


def test_announcement_feed_atom_flavour() -> None:
    atom = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns="http://www.w3.org/2005/Atom">
  <id>http://rss.arxiv.org/atom/cs.LG</id><title>cs.LG updates on arXiv.org</title>
  <updated>2025-04-28T04:00:00.000Z</updated>
  <entry>
    <id>oai:arXiv.org:2504.17830v2</id>
    <title>Self-Adjoint   Time Operator</title>
    <updated>2025-04-28T04:00:00.000Z</updated>
    <link href="https://arxiv.org/abs/2504.17830" rel="alternate" type="text/html"/>
    <summary>arXiv:2504.17830v2 Announce Type: replace-cross
Abstract: We introduce \\(T_w\\).</summary>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <category term="quant-ph" scheme="http://arxiv.org/schemas/atom"/>
    <published>2025-04-28T00:00:00-04:00</published>
    <arxiv:announce_type>replace-cross</arxiv:announce_type>
    <author><name>Radmir Kokoulin</name></author>
    <author><name>Ada Lovelace</name></author>
  </entry>
</feed>"""
    [record] = parse_feed(atom, "arxiv:cs.LG").records
    assert (record.canonical_id, record.version, record.announce_type) == ("2504.17830", 2, "replace-cross")
    assert record.title == "Self-Adjoint Time Operator" and record.abstract == r"We introduce \(T_w\)."
    assert record.authors == ["Radmir Kokoulin", "Ada Lovelace"] and record.categories == ["cs.LG", "quant-ph"]
    assert record.published_at is not None and record.published_at.hour == 4
