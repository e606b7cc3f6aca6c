"""Following an author through the real path: ingest → candidates → subscribe → match → digest text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.core.assembly import Recipient, build_digest
from digest.discord.render import paper_embed
from digest.email.render import Links, render_digest
from digest.services import authors
from digest.services import subscribers as service
from digest.services.errors import ServiceError
from digest.services.ingest import ingest_sources
from digest.services.items import load_items
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from tests.digest.services.test_matching import deliveries
from tests.digest.sources.builders import api_entry, api_feed

DAY_ONE = [
    ("2501.00001", "Deep generative models", ["Yoshua Bengio", "Aaron Courville"]),
    ("2501.00002", "Sequence to sequence learning", ["Samy Bengio", "Oriol Vinyals"]),
    ("2501.00003", "Learning long-term dependencies", ["Y. Bengio", "Aaron Courville"]),
]
DAY_TWO = [
    ("2501.00004", "A followed author, written last name first", ["Ian Goodfellow", "Bengio, Yoshua"]),
    ("2501.00005", "Another Bengio", ["S. Bengio", "Noam Shazeer"]),
    ("2501.00006", "Accents stripped and added", ["Yóshua Bengió"]),
    ("2501.00007", "A different Y. Bengio", ["Yann Bengio"]),
]


def feed(tmp_path: Path, name: str, papers: list[tuple[str, str, list[str]]]) -> str:
    entries = []
    for ident, title, names in papers:
        people = "".join(f"<author><name>{n}</name></author>" for n in names)
        entries.append(api_entry(ident, title=title).replace("<author><name>Ada Lovelace</name></author>", people))
    path = tmp_path / name
    path.write_bytes(api_feed(*entries))
    return f"file:{path}"


async def test_a_followed_author_is_matched_under_every_spelling(settings: Settings, db: Database,
                                                                  tmp_path: Path) -> None:
    await ingest_sources(settings, db, [feed(tmp_path, "day1.xml", DAY_ONE)])
    run_match_cycle(db, settings)  # day one is matched before anyone follows: delivered to no one
    candidates = authors.find_candidates(db, "Bengio")
    assert [(c.display, len(c.papers)) for c in candidates] == [("Yoshua Bengio", 2), ("Samy Bengio", 1)]
    assert "Aaron Courville" in candidates[0].describe() and "Y. Bengio" in candidates[0].describe()
    [yoshua] = authors.find_candidates(db, "yoshua bengio")
    assert yoshua.clause == 'author:"Yoshua Bengio"'

    service.add_subscriber(db, settings, "email", "ada@example.org")
    subscription = service.subscribe(db, settings, "ada@example.org", yoshua.clause, backfill_days=0).subscription
    await ingest_sources(settings, db, [feed(tmp_path, "day2.xml", DAY_TWO)])
    run_match_cycle(db, settings)
    rows = [(r.id or 0, r.paper_id, r.subscription_id, r.explanation) for r in deliveries(db)]
    items = await load_items(settings, db, rows)
    assert [(i.canonical_id, i.reason) for i in items] == [
        ("2501.00004", "by Bengio, Yoshua, whom you follow"),
        ("2501.00006", "by Yóshua Bengió, whom you follow"),
    ]
    assert all(i.subscription_id == subscription.id for i in items)
    # every channel says it: the e-mail (text and HTML) and the Discord embed
    who = Recipient(1, "ada@example.org")
    mail = render_digest(build_digest(who, items, now=datetime.now(UTC)), Links("https://x/m", "https://x/u"))
    assert "Why it's here: by Bengio, Yoshua, whom you follow" in mail.text
    assert "by Bengio, Yoshua, whom you follow" in mail.html
    assert "whom you follow" in paper_embed(items[0])["description"]


async def test_an_orcid_from_openalex_follows_the_person(settings: Settings, db: Database, tmp_path: Path) -> None:
    page = tmp_path / "openalex.json"
    page.write_text(
        '{"meta": {"count": 1, "page": 1, "per_page": 25}, "results": [{"id": "https://openalex.org/W1",'
        ' "title": "Transliterated", "doi": "https://doi.org/10.1/x", "publication_date": "2025-01-02",'
        ' "authorships": [{"author": {"display_name": "Джошуа Бенжио",'
        ' "orcid": "https://orcid.org/0000-0002-9322-3515"}}]}]}', encoding="utf-8")
    service.add_subscriber(db, settings, "email", "ada@example.org")
    service.subscribe(db, settings, "ada@example.org", 'author:"Yoshua Bengio; 0000-0002-9322-3515"',
                      backfill_days=0)
    await ingest_sources(settings, db, [f"file:{page}"])
    run_match_cycle(db, settings)
    rows = [(r.id or 0, r.paper_id, r.subscription_id, r.explanation) for r in deliveries(db)]
    [item] = await load_items(settings, db, rows)
    assert item.reason == "by Джошуа Бенжио, whom you follow"


@pytest.mark.parametrize(("name", "reason"), [
    ("", "empty"), ("   ", "empty"), ("x" * 10_000, "10000 characters long"), ("Ada\x00Lovelace", "control"),
    ("Ada\u202eLovelace", "control"), ("12345", "no letter"),
])
def test_poison_names_are_refused_in_one_line(db: Database, name: str, reason: str) -> None:
    with pytest.raises(ServiceError) as refused:
        authors.find_candidates(db, name)
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_a_name_nobody_has_yet_can_still_be_followed(db: Database) -> None:
    [typed] = authors.find_candidates(db, "Grace Hopper")
    assert typed.clause == 'author:"Grace Hopper"' and "no stored paper yet" in typed.describe()
    assert authors.find_candidates(db, "Hopper") == []
    with pytest.raises(ServiceError, match="give a full name"):
        authors.pick([], 1)
    with pytest.raises(ServiceError, match="from 1 to 1"):
        authors.pick([typed], 2)
