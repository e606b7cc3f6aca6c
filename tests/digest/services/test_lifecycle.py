"""Lifecycle alerts through the real ingest path: a paper delivered on day 1, its v2, DOI and code on
day 3; the reader's next digest says so once, never twice, and only when the subscription opted in."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from digest.core.lifecycle import SECTION_TITLE
from digest.email.digests import send_due_digests
from digest.email.preview import preview_digest
from digest.services.ingest import ingest_sources
from digest.services.lifecycle import pending_updates, set_update_kinds
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from storage.lifecycle_models import PaperEvent, UpdateNotice
from tests.digest.email.conftest import add_subscriber

FIXTURES = Path(__file__).parent / "fixtures" / "lifecycle"
DAY1 = ["arxiv_rss_day1.xml", "arxiv_api_day1.xml", "hf_day1.json"]
DAY3 = ["arxiv_rss_day3.xml", "arxiv_api_day3.xml", "hf_day3.json"]
# matches the three papers of day 1 and the new paper of day 3
QUERY = "deniable OR synchrotron OR contrastive OR self-adjoint"


async def ingest(settings: Settings, db: Database, names: list[str]) -> None:
    reports = await ingest_sources(settings, db, [f"file:{FIXTURES / name}" for name in names])
    assert all(r.status == "ok" for r in reports), [r.to_dict() for r in reports]


def text_of(path: str | None) -> str:
    assert path is not None
    message = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(body.get_content())


async def send(settings: Settings, db: Database, now: datetime) -> str:
    [result] = await send_due_digests(settings, db, now, force=True)
    assert result.status == "sent", result
    return text_of(result.path)


def reader(settings: Settings, db: Database, kinds: str | None) -> int:
    subscriber = add_subscriber(db, settings, "ada@example.org", [QUERY])
    assert subscriber.id is not None
    if kinds is not None:
        with db.session() as session:
            from storage.models import Subscription
            [subscription] = session.exec(select(Subscription)).all()
            assert subscription.id is not None
            sid = subscription.id
        set_update_kinds(db, sid, kinds.split(","))
    return subscriber.id


async def test_v2_doi_and_code_are_told_once_in_the_next_digest(settings: Settings, db: Database) -> None:
    subscriber_id = reader(settings, db, "new-version,published,code")
    day1 = datetime.now(UTC)
    await ingest(settings, db, DAY1)
    run_match_cycle(db, settings)
    first = await send(settings, db, day1)
    assert SECTION_TITLE not in first and "Deniable Encryption in a Quantum" in first

    await ingest(settings, db, DAY3)  # v4 with a changed title, a DOI + journal reference, a GitHub repository
    with db.session() as session:
        kinds = sorted(e.kind for e in session.exec(select(PaperEvent)).all())
    assert kinds == ["code", "new-version", "published"]
    run_match_cycle(db, settings)
    second = await send(settings, db, day1 + timedelta(days=2))
    section = second[second.index(SECTION_TITLE):]
    assert "v4 appeared (you received this on" in section
    assert "title now “Deniable Encryption in a Quantum World”" in section
    assert "published: CERN Yellow Report CERN-2013-002, pp.237-240, DOI 10.5170/cern-2013-002.237" in section
    assert "code released: https://github.com/DAMO-NLP-SG/Inf-CLIP" in section
    assert "Self-Adjoint Time Operator" in second[: second.index(SECTION_TITLE)]  # the day's new paper

    # never twice: re-ingesting day 3 changes nothing, and the next digest has no such section
    await ingest(settings, db, DAY3)
    assert pending_updates(db, subscriber_id) == []
    preview = await preview_digest(settings, db, subscriber_id, out_dir=settings.data_dir / "p")
    assert SECTION_TITLE not in preview.text_path.read_text()
    with db.session() as session:
        assert len(session.exec(select(UpdateNotice)).all()) == 3


@pytest.mark.parametrize("kinds", [None, "code"])
async def test_only_the_kinds_opted_in_are_told(settings: Settings, db: Database, kinds: str | None) -> None:
    subscriber_id = reader(settings, db, kinds)
    await ingest(settings, db, DAY1)
    run_match_cycle(db, settings)
    await send(settings, db, datetime.now(UTC))
    await ingest(settings, db, DAY3)
    told = [note.kind for note in pending_updates(db, subscriber_id)]
    assert told == ([] if kinds is None else ["code"])


async def test_an_event_of_a_paper_never_received_is_not_told(settings: Settings, db: Database) -> None:
    subscriber_id = reader(settings, db, "new-version,published,code")
    await ingest(settings, db, DAY1)  # stored, but no match cycle ran: nothing was received
    await ingest(settings, db, DAY3)
    assert pending_updates(db, subscriber_id) == []


@pytest.mark.parametrize("repo", ["javascript:alert(1)", "https://user:pw@github.com/a/b", "https://github.com/\u202ea"])
async def test_an_unsafe_code_link_is_no_event(settings: Settings, db: Database, tmp_path: Path, repo: str) -> None:
    """Hostile input: the URL gate drops the link before the merge, so nobody is told of it; the paper stays."""
    import json

    reader(settings, db, "code")
    await ingest(settings, db, ["hf_day1.json"])
    [item] = json.loads((FIXTURES / "hf_day1.json").read_text())
    item["paper"]["githubRepo"] = repo
    (tmp_path / "hf_poison.json").write_text(json.dumps([item]))
    [report] = await ingest_sources(settings, db, [f"file:{tmp_path / 'hf_poison.json'}"])
    assert report.status == "ok" and report.unsafe_links == 1
    with db.session() as session:
        assert session.exec(select(PaperEvent)).all() == []
