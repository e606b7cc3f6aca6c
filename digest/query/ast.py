"""The parsed form of a query: immutable nodes, limits, the error type, canonical formatting.

Built by `digest.query.parser`, read by the evaluator (`oracle`) and the compiler (`compiled`).
Nodes keep the words as the user wrote them (for explanations and round-tripping) next to their
analysed form (stems, lowercase prefixes) that matching uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from digest.query.analysis import ABSTRACT, AUTHORS, CATEGORIES, PEOPLE, TITLE

FIELD_PREFIXES: dict[str, tuple[str, ...]] = {"ti": (TITLE,), "abs": (ABSTRACT,), "au": (AUTHORS,)}
DEFAULT_FIELDS: tuple[str, ...] = (TITLE, ABSTRACT)
PREFIX_OF: dict[tuple[str, ...], str] = {fields: name for name, fields in FIELD_PREFIXES.items()}


class QueryError(ValueError):
    """A query was refused. `.position` is the 0-based offset of the problem, `.message` what it is,
    `.expected` what would have been valid there; str() is one line with a 1-based position."""

    def __init__(self, message: str, position: int, expected: str = "") -> None:
        self.message = message
        self.position = position
        self.expected = expected
        text = f"{message} at position {position + 1}"
        super().__init__(f"{text}: expected {expected}" if expected else text)


@dataclass(frozen=True)
class QueryLimits:
    """Limits against abuse: characters in the query text, terms/phrases in it, and how deeply
    parentheses and NOTs nest (the parser and evaluators recurse once per level)."""

    max_length: int = 500
    max_clauses: int = 32
    max_depth: int = 16


@dataclass(frozen=True)
class Term:
    """One word, matched by its key in `fields` (title+abstract unless a field prefix was given): a
    stem, an acronym key ("^SAM" for `SAM`) or a name key ("@roberts" for `au:roberts`), see
    digest.query.words."""

    fields: tuple[str, ...]
    word: str
    stem: str


@dataclass(frozen=True)
class Phrase:
    """Consecutive tokens; also what a bare hyphenated word ("low-resource") becomes.

    `joined`: for a bare hyphenated word, the key of its closed-up spelling ("lowresourc"), which
    matches too ("fine-tuning" finds "finetuned"). `slop`: `"a b"~N`, the words within N position
    moves of each other, in any order (Lucene's sloppy phrase); 0 = consecutive, in order.
    """

    fields: tuple[str, ...]
    text: str
    stems: tuple[str, ...]
    quoted: bool
    joined: str | None = None
    slop: int = 0


@dataclass(frozen=True)
class Prefix:
    """`tokeniz*`: any unstemmed token starting with `prefix` (lowercase)."""

    fields: tuple[str, ...]
    word: str
    prefix: str


@dataclass(frozen=True)
class Category:
    """`cat:cs.LG` (exact, case-insensitive) or `cat:cs.*` (`archive`: the whole cs archive)."""

    text: str
    value: str
    archive: bool


@dataclass(frozen=True)
class Person:
    """`author:"Yoshua Bengio; 0000-0002-9322-3515"`: one identity, not a string. Matches a paper
    with an author whose identity key (digest.query.people) is in `keys`: the names' spellings
    (initials, accents, "Last, First") and the ORCIDs. `au:` stays plain text matching."""

    names: tuple[str, ...]
    orcids: tuple[str, ...]
    keys: frozenset[str]

    @property
    def text(self) -> str:
        return "; ".join((*self.names, *self.orcids))


Atom = Term | Phrase | Prefix | Category | Person


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | Phrase | Prefix | Category | Person | And | Or | Not
ATOM_TYPES = (Term, Phrase, Prefix, Category, Person)


def atom_fields(atom: Atom) -> tuple[str, ...]:
    if isinstance(atom, Person):
        return (PEOPLE,)
    return (CATEGORIES,) if isinstance(atom, Category) else atom.fields


def atom_key(atom: Atom) -> tuple[object, ...]:
    """What matching depends on (not the surface spelling): equal keys match the same papers."""
    if isinstance(atom, Term):
        return ("t", atom.fields, atom.stem)
    if isinstance(atom, Phrase):
        return ("p", atom.fields, atom.stems, atom.joined, atom.slop)
    if isinstance(atom, Prefix):
        return ("w", atom.fields, atom.prefix)
    if isinstance(atom, Person):
        return ("h", tuple(sorted(atom.keys)))
    return ("c", atom.value, atom.archive)


def format_atom(atom: Atom) -> str:
    if isinstance(atom, Person):
        return f'author:"{atom.text}"'
    if isinstance(atom, Category):
        return atom.text if atom.text.startswith("src:") else f"cat:{atom.text}"
    prefix = f"{PREFIX_OF[atom.fields]}:" if atom.fields in PREFIX_OF else ""
    if isinstance(atom, Term):
        return prefix + atom.word
    if isinstance(atom, Prefix):
        return f"{prefix}{atom.word}*"
    if not atom.quoted:
        return prefix + atom.text
    return f'{prefix}"{atom.text}"~{atom.slop}' if atom.slop else f'{prefix}"{atom.text}"'


def format_node(node: Node) -> str:
    """Canonical query text; parsing it gives back an equal tree."""
    if isinstance(node, ATOM_TYPES):
        return format_atom(node)
    if isinstance(node, Not):
        inner = format_node(node.child)
        return f"-{inner}" if isinstance(node.child, (*ATOM_TYPES, Not)) else f"-({inner})"
    if isinstance(node, And):
        return " ".join(f"({format_node(c)})" if isinstance(c, (And, Or)) else format_node(c) for c in node.children)
    assert isinstance(node, Or)
    return " OR ".join(f"({format_node(c)})" if isinstance(c, Or) else format_node(c) for c in node.children)


def iter_atoms(node: Node) -> Iterator[Atom]:
    if isinstance(node, ATOM_TYPES):
        yield node
    elif isinstance(node, Not):
        yield from iter_atoms(node.child)
    else:
        assert isinstance(node, (And, Or))
        for child in node.children:
            yield from iter_atoms(child)


def can_match(node: Node) -> bool:
    """True when every match needs some term present: such queries can be indexed and mean something."""
    if isinstance(node, ATOM_TYPES):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(can_match(c) for c in node.children)
    assert isinstance(node, Or)
    return all(can_match(c) for c in node.children)


@dataclass(frozen=True)
class Query:
    """A parsed query: the text as given, its tree, and warnings about parts that look unintended
    (a lowercase "or", a `*` inside quotes...: the query still runs as written)."""

    text: str
    root: Node
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return format_node(self.root)

    def atoms(self) -> list[Atom]:
        return list(iter_atoms(self.root))
