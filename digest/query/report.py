"""Which clauses of a query found nothing recently, and whether it matches nearly every paper.

Used by every preview (`digest.services.preview.preview_query`: CLI `paperbell match`, Discord
/subscribe, /admin subscribe, /search), which feeds it the recent papers it reads anyway. Pure:
analysed papers in, warnings out. "0 matching papers" then says why (`ti:difusion` found nothing),
and a query matching most papers ("model") says so before it floods a digest.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.query.analysis import AnalyzedDoc
from digest.query.ast import Atom, Query, atom_key, format_atom
from digest.query.warnings import quote

REPORT_DAYS = 30  # how far back a clause that found nothing is looked for
NEAR_UNIVERSAL = 0.5  # share of recent papers from which a query is said to match nearly everything
SHARE_SAMPLE = 500  # recent papers the share is measured on (fewer: no share warning)


class ClauseReport:
    """Fed the recent papers newest first (`add`), says which clauses none of them has (`warnings`).

    `settled` is true once nothing more can change: every clause was found and the share measured,
    so a preview can stop reading older papers early (the usual case: one page)."""

    def __init__(self, query: Query) -> None:
        from digest.query.compiled import compile_matcher  # numpy: only when a preview reports clauses

        self.query = query
        distinct: dict[tuple[object, ...], Atom] = {}
        for atom in query.atoms():
            distinct.setdefault(atom_key(atom), atom)
        self.clauses = list(distinct.values())
        self._clause_matcher = compile_matcher({i: Query(format_atom(a), a) for i, a in enumerate(self.clauses)})
        self._query_matcher = compile_matcher({0: query})
        self.found: set[int] = set()
        self.papers = 0
        self.sampled = 0  # papers of the share sample seen so far
        self.matched = 0  # how many of those the whole query matches

    def add(self, docs: Sequence[AnalyzedDoc]) -> None:
        if not docs:
            return
        if len(self.found) < len(self.clauses):
            sids, _papers = self._clause_matcher.match_pairs(docs)
            self.found.update(sids.tolist())
        if self.sampled < SHARE_SAMPLE:
            sample = docs[: SHARE_SAMPLE - self.sampled]
            self.matched += len(self._query_matcher.match_pairs(sample)[0])
            self.sampled += len(sample)
        self.papers += len(docs)

    @property
    def settled(self) -> bool:
        return len(self.found) == len(self.clauses) and self.sampled >= SHARE_SAMPLE

    def warnings(self, *, complete: bool = True) -> list[str]:
        """The warnings; `complete=False` when the papers fed stop short of `REPORT_DAYS` (then a
        clause not seen yet may still occur, and is not reported)."""
        out: list[str] = []
        if self.sampled >= SHARE_SAMPLE and self.matched >= NEAR_UNIVERSAL * self.sampled:
            share = round(100 * self.matched / self.sampled)
            out.append(f"this query matches {share}% of recent papers; add a more specific word or a field like ti:")
        if complete and self.papers:
            missing = [format_atom(atom) for i, atom in enumerate(self.clauses) if i not in self.found]
            out.extend(f"{quote(clause)} matched no paper in the last {REPORT_DAYS} days" for clause in missing)
        return out
