"""Who is "Yoshua Bengio"? A typed name → candidate identities, from the papers already stored.

Used by `paperbell subscriptions add --author`, Discord's `/follow author:` (its autocomplete) and
the web's "follow" links. Reads the newest `SCAN_PAPERS` papers' author lists and the ORCIDs
sources gave (a paper's extras), keeps the authors whose name fits the one typed (the same
surname; the same given name or initial when one was typed), and groups them into identities:
the same ORCID is one person; the same full name is one person unless ORCIDs say otherwise; an
initials-only spelling ("Y. Bengio") joins the full name it shares a co-author with. Each
candidate says how many papers it has and with whom, and the `author:` clause that follows it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import col, select

from digest.query.people import (
    MAX_PARTS,
    ORCIDS_EXTRA,
    author_ids,
    author_keys,
    closed_name,
    identity_keys,
    name_problem,
    normal_orcid,
    parse_name,
)
from digest.services.errors import ServiceError
from storage.db import Database
from storage.models import Paper

SCAN_PAPERS = 20_000  # newest papers read per lookup: bounds a lookup's time (about 1-2 s on a loaded machine)
AUTOCOMPLETE_SCAN = 5_000  # fewer for Discord's autocomplete, which must answer within 3 s while the reader types
MAX_CANDIDATES = 25  # Discord shows at most 25 autocomplete choices
CHOICE_LENGTH = 100  # Discord's limit on a choice's name and value
COAUTHORS_SHOWN = 3


@dataclass
class Candidate:
    """One person the typed name may mean: how they are written, their ORCIDs, papers, co-authors."""

    names: Counter[str] = field(default_factory=Counter)
    orcids: set[str] = field(default_factory=set)
    papers: set[int] = field(default_factory=set)
    coauthors: Counter[str] = field(default_factory=Counter)

    @property
    def display(self) -> str:
        """The most frequent full spelling (an initials-only one when there is no other)."""
        full = [n for n, _ in self.names.most_common() if not parse_name(n)[2]]
        return (full or [n for n, _ in self.names.most_common()])[0]

    @property
    def clause_text(self) -> str:
        """What goes between the quotes of `author:"…"`: the display name, spellings it does not
        cover, the ORCIDs; at most `CHOICE_LENGTH` characters (a Discord choice value)."""
        parts = [self.display]
        covered = set(identity_keys(self.display))
        for name, _count in self.names.most_common():
            if not parse_name(name)[2] and not covered.intersection(author_keys(name)):
                parts.append(name)
                covered.update(identity_keys(name))
        parts.extend(sorted(self.orcids))
        text = "; ".join(parts[:MAX_PARTS])
        while len(text) > CHOICE_LENGTH and len(parts) > 1:
            parts.pop(1 if len(parts) > 1 + len(self.orcids) else -1)
            text = "; ".join(parts[:MAX_PARTS])
        return text[:CHOICE_LENGTH]

    @property
    def clause(self) -> str:
        return f'author:"{self.clause_text}"'

    def describe(self) -> str:
        """"Yoshua Bengio · 12 papers · with Aaron Courville, Ian Goodfellow · ORCID 0000-…"."""
        count = len(self.papers)
        parts = [self.display, f"{count} paper{'s' if count != 1 else ''}" if count else "no stored paper yet"]
        others = [n for n, _ in self.names.most_common(4) if n != self.display]
        if others:
            parts.append("also " + ", ".join(others))
        if self.coauthors:
            parts.append("with " + ", ".join(n for n, _ in self.coauthors.most_common(COAUTHORS_SHOWN)))
        parts.extend(f"ORCID {o}" for o in sorted(self.orcids))
        return " · ".join(parts)


def check_name(name: str) -> str:
    """The typed name, or a `ServiceError` saying in one line why it cannot be looked up."""
    problem = name_problem(name)
    if problem is not None:
        raise ServiceError(f"cannot follow this author: {problem}")
    return " ".join(name.split())


class _Groups:
    """Union-find over author occurrences; a group remembers its ORCIDs so two people stay apart."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.orcids: dict[int, set[str]] = {}

    def add(self, node: int, orcid: str | None) -> None:
        self.parent[node] = node
        self.orcids[node] = {orcid} if orcid else set()

    def find(self, node: int) -> int:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a == b or (self.orcids[a] and self.orcids[b] and not self.orcids[a] & self.orcids[b]):
            return  # different ORCIDs: two people who write their name alike
        self.parent[b] = a
        self.orcids[a] |= self.orcids.pop(b)


Occurrence = tuple[int, str, str | None, tuple[str, ...]]  # paper id, name as written, ORCID, co-authors


def _occurrences(db: Database, name: str, scan: int) -> list[Occurrence]:
    """Each stored author (newest papers first) whose name fits `name`."""
    surnames, given, _initial = parse_name(name)
    wanted = set(identity_keys(name))
    with db.session() as session:
        rows = session.execute(
            select(col(Paper.id), col(Paper.authors)).order_by(col(Paper.id).desc()).limit(scan)
        ).all()
    hits: list[tuple[int, int, str, list[str]]] = []
    for paper_id, stored in rows:
        authors = [a for a in stored or [] if isinstance(a, str)]
        if not any(s in closed_name(" ".join(authors)) for s in surnames):
            continue  # one test per paper first: nearly no paper has an author with that surname
        for position, author in enumerate(authors):
            if any(s in closed_name(author) for s in surnames) and name_problem(author) is None:
                keys = author_keys(author)
                if wanted.intersection(keys) if given else any(k.split("|")[0] in surnames for k in keys):
                    hits.append((paper_id, position, author, authors))
    orcids = _orcids(db, {paper_id for paper_id, *_rest in hits})
    return [(paper_id, author, normal_orcid(orcids.get((paper_id, author), "")),
             tuple(a for i, a in enumerate(authors) if i != position))
            for paper_id, position, author, authors in hits]


def _orcids(db: Database, paper_ids: set[int]) -> dict[tuple[int, str], str]:
    """(paper, author as written) → ORCID, for the few papers that have a fitting author."""
    if not paper_ids:
        return {}
    with db.session() as session:
        rows = session.execute(
            select(col(Paper.id), Paper.__table__.c.extras[ORCIDS_EXTRA])  # type: ignore[attr-defined]
            .where(col(Paper.id).in_(sorted(paper_ids)))
        ).all()
    return {(paper_id, name): orcid for paper_id, stored in rows for name, orcid in author_ids(stored)}


def _group(found: list[Occurrence]) -> list[Candidate]:
    groups = _Groups()
    for node, (_paper, _name, orcid, _others) in enumerate(found):
        groups.add(node, orcid)
    by_orcid: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for node, (_paper, name, orcid, _others) in enumerate(found):
        if orcid:
            groups.union(by_orcid.setdefault(orcid, node), node)
        if not parse_name(name)[2]:  # a full name; initials-only spellings are placed below
            groups.union(by_name.setdefault(author_keys(name)[0], node), node)
    coauthors_of: dict[int, set[str]] = {}
    for node, (_paper, _name, _orcid, others) in enumerate(found):
        coauthors_of.setdefault(groups.find(node), set()).update(k for o in others for k in author_keys(o)[:1])
    by_initials: dict[str, int] = {}
    for node, (_paper, name, _orcid, others) in enumerate(found):
        if parse_name(name)[2]:  # "Y. Bengio" joins the "Yoshua Bengio" who shares a co-author with them
            mine = {k for o in others for k in author_keys(o)[:1]}
            match = next((root for root, theirs in coauthors_of.items()
                          if root != groups.find(node) and mine & theirs
                          and set(author_keys(name)) & set(identity_keys(found[root][1]))), None)
            groups.union(match if match is not None else by_initials.setdefault(author_keys(name)[0], node), node)
    candidates: dict[int, Candidate] = {}
    for node, (paper, name, orcid, others) in enumerate(found):
        candidate = candidates.setdefault(groups.find(node), Candidate())
        candidate.names[name] += 1
        candidate.papers.add(paper)
        candidate.coauthors.update(others)
        if orcid:
            candidate.orcids.add(orcid)
    return sorted(candidates.values(), key=lambda c: (-len(c.papers), c.display))


def find_candidates(db: Database, name: str, limit: int = MAX_CANDIDATES, scan: int = SCAN_PAPERS) -> list[Candidate]:
    """The identities `name` may mean, most papers first; the name as typed comes last when no
    stored spelling covers it (to follow someone before their first paper arrives)."""
    name = check_name(name)
    candidates = _group(_occurrences(db, name, scan))
    typed = set(identity_keys(name))
    if typed and not any(typed & set(identity_keys(c.display)) and c.display.casefold() == name.casefold()
                         for c in candidates):
        as_typed = Candidate()
        as_typed.names[name] += 1
        candidates.append(as_typed)
    return candidates[:limit]


def pick(candidates: list[Candidate], number: int) -> Candidate:
    """Candidate `number` (1-based, as listed), or a one-line refusal."""
    if not candidates:
        raise ServiceError("no one to follow: no stored paper has an author by that name, "
                           "and a surname alone names nobody in particular; give a full name")
    if not 1 <= number <= len(candidates):
        raise ServiceError(f"--pick {number}: choose a number from 1 to {len(candidates)}")
    return candidates[number - 1]
