"""The URL gate at the door: a record's unsafe links are not stored, the paper is."""

from __future__ import annotations

from sqlmodel import select

from digest.core.records import PaperRecord
from digest.services.ingest import IngestReport, store_records
from storage.db import Database
from storage.models import Paper


def test_unsafe_links_are_dropped_and_the_papers_stored(db: Database) -> None:
    records = [
        PaperRecord(canonical_id="2501.00001", title="Relative link", abs_url="/posts/3",
                    pdf_url="javascript:alert(1)", extras={"hf_url": "https://u:p@evil.example/",
                                                           "github_repo": "https://github.com/o/r", "upvotes": 2}),
        PaperRecord(canonical_id="2501.00002", title="Fine", abs_url="https://arxiv.org/abs/2501.00002",
                    extras={"thumbnail": "data:image/png;base64,AAAA", "project_page": "https://example.org/p"}),
    ]
    report = IngestReport("file:test.jsonl")
    with db.session() as session:
        store_records(session, records, report, dry_run=False)
    with db.session() as session:
        stored = {p.canonical_id: p for p in session.exec(select(Paper)).all()}

    assert report.new == 2 and report.unsafe_links == 4 and report.to_dict()["unsafe_links"] == 4
    first, second = stored["2501.00001"], stored["2501.00002"]
    assert (first.abs_url, first.pdf_url, first.extras) == (None, None, {"github_repo": "https://github.com/o/r",
                                                                         "upvotes": 2})
    assert second.abs_url == "https://arxiv.org/abs/2501.00002"
    assert second.extras == {"project_page": "https://example.org/p"}
