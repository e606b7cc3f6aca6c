"""Why a paper matched: the clauses that matched, in which fields, and the words to highlight.

Built by both engines through `build_explanation`, which only asks "does this atom occur in this
field of this paper?" — the one-by-one evaluator answers by looking at the paper, the compiled
matcher from its bitsets — so both produce the same explanation whenever they agree on matching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from digest.query.analysis import ABSTRACT, CATEGORIES, PEOPLE, TITLE, AnalyzedDoc, Occurrence, near_runs, phrase_paths
from digest.query.ast import (
    ATOM_TYPES,
    And,
    Atom,
    Category,
    Node,
    Not,
    Or,
    Person,
    Phrase,
    Prefix,
    Term,
    atom_fields,
    format_atom,
)

NEAR_RUNS_SHOWN = 20  # a proximity phrase explains (and counts) at most this many runs per field
# (atom, field) -> does the atom occur in that field of the paper under consideration
Presence = Callable[[Atom, str], bool]


@dataclass(frozen=True)
class ClauseHit:
    clause: str
    fields: list[str]


@dataclass(frozen=True)
class Explanation:
    """Matched words (surface forms, first occurrence order), the clauses and fields, hit counts."""

    matched_words: list[str] = field(default_factory=list)
    clauses: list[ClauseHit] = field(default_factory=list)
    title_hits: int = 0
    abstract_hits: int = 0
    people: list[str] = field(default_factory=list)  # authors (as written) an `author:` clause matched

    def to_dict(self) -> dict[str, Any]:
        out = {
            "matched_words": list(self.matched_words),
            "clauses": [{"clause": c.clause, "fields": list(c.fields)} for c in self.clauses],
            "title_hits": self.title_hits,
            "abstract_hits": self.abstract_hits,
        }
        if self.people:  # only then: explanations stored before `author:` existed stay equal
            out["people"] = list(self.people)
        return out


def atom_occurrences(atom: Atom, doc: AnalyzedDoc, field_name: str) -> list[list[Occurrence]]:
    """Each place the atom occurs in the field, as the run of occurrences it covers."""
    if isinstance(atom, Category):
        if field_name != CATEGORIES:
            return []
        return [
            [(0, 0, surface)]
            for value, surface in doc.categories
            if value == atom.value or (atom.archive and value.startswith(atom.value + "."))
        ]
    if isinstance(atom, Person):
        if field_name != PEOPLE:
            return []
        return [[(0, 0, name)] for name in dict.fromkeys(name for key, name in doc.people() if key in atom.keys)]
    text = doc.fields[field_name]
    if isinstance(atom, Term):
        return [[occ] for occ in text.stems.get(atom.stem, ())]
    if isinstance(atom, Phrase):
        if atom.slop:
            return near_runs(text, atom.stems, atom.slop, NEAR_RUNS_SHOWN)
        paths = phrase_paths(text, atom.stems)
        if atom.joined is not None:
            # the closed-up spelling ("finetuned"); a hyphenated one was already found as a path
            spans = {(path[0][0], path[-1][1]) for path in paths}
            paths += [[occ] for occ in text.stems.get(atom.joined, ()) if occ[:2] not in spans]
            paths.sort()
        return paths
    assert isinstance(atom, Prefix)
    return [[occ] for raw, occs in sorted(text.raw.items()) if raw.startswith(atom.prefix) for occ in occs]


def evaluate(node: Node, present: Presence) -> bool:
    if isinstance(node, ATOM_TYPES):
        return any(present(node, f) for f in atom_fields(node))
    if isinstance(node, Not):
        return not evaluate(node.child, present)
    if isinstance(node, And):
        return all(evaluate(c, present) for c in node.children)
    assert isinstance(node, Or)
    return any(evaluate(c, present) for c in node.children)


def _contributing_atoms(node: Node, present: Presence, out: list[Atom]) -> None:
    """Atoms of the satisfied parts of a satisfied node (a NOT contributes nothing)."""
    if isinstance(node, ATOM_TYPES):
        out.append(node)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            if isinstance(node, And) or evaluate(child, present):
                _contributing_atoms(child, present, out)


def build_explanation(root: Node, doc: AnalyzedDoc, present: Presence) -> Explanation:
    """The explanation of a node already known to match `doc`."""
    atoms: list[Atom] = []
    _contributing_atoms(root, present, atoms)
    clauses: list[ClauseHit] = []
    runs: list[list[Occurrence]] = []
    people: dict[str, None] = {}
    hits = {TITLE: 0, ABSTRACT: 0}
    for atom in atoms:
        fields = [f for f in atom_fields(atom) if present(atom, f)]
        if not fields:
            continue  # defensive: only atoms of satisfied parts are collected, so each occurs somewhere
        clauses.append(ClauseHit(format_atom(atom), fields))
        for name in fields:
            found = atom_occurrences(atom, doc, name)
            if name == PEOPLE:  # a followed author is named in the explanation, not highlighted in the text
                people.update((surface, None) for run in found for _start, _end, surface in run)
                continue
            if name in hits:
                hits[name] += len(found)
            runs.extend(found)
    words: dict[str, None] = {}
    for run in runs:
        for _start, _end, surface in run:
            words.setdefault(surface, None)
    return Explanation(list(words), clauses, hits[TITLE], hits[ABSTRACT], list(people))
