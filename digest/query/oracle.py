"""The straightforward evaluator: one query against one paper, by looking at the paper.

It is the definition of what a query means and the test oracle the compiled matcher is compared
with; the CLI and the preview use it directly because they match one query at a time.
"""

from __future__ import annotations

from digest.query.analysis import AnalyzedDoc, PaperDoc, analyze_doc, near_runs, phrase_paths
from digest.query.ast import Atom, Category, Person, Phrase, Prefix, Query, Term
from digest.query.explain import Explanation, build_explanation, evaluate


def atom_present(atom: Atom, doc: AnalyzedDoc, field_name: str) -> bool:
    if isinstance(atom, Person):
        return any(key in atom.keys for key, _name in doc.people())
    if isinstance(atom, Category):
        return any(
            value == atom.value or (atom.archive and value.startswith(atom.value + ".")) for value, _ in doc.categories
        )
    text = doc.fields[field_name]
    if isinstance(atom, Term):
        return atom.stem in text.stems
    if isinstance(atom, Phrase):
        if atom.slop:
            return bool(near_runs(text, atom.stems, atom.slop, 1))
        return bool(phrase_paths(text, atom.stems)) or (atom.joined is not None and atom.joined in text.stems)
    assert isinstance(atom, Prefix)
    return any(raw.startswith(atom.prefix) for raw in text.raw)


def match_query(query: Query, doc: PaperDoc | AnalyzedDoc) -> Explanation | None:
    """The explanation when `query` matches `doc`, else None. Pass an `AnalyzedDoc` to reuse analysis."""
    analyzed = doc if isinstance(doc, AnalyzedDoc) else analyze_doc(doc)

    def present(atom: Atom, field_name: str) -> bool:
        return atom_present(atom, analyzed, field_name)

    if not evaluate(query.root, present):
        return None
    return build_explanation(query.root, analyzed, present)
