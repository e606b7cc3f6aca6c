"""Query text → `Query` tree: a small lexer and a recursive-descent parser with pointed errors.

Called by every interface that accepts a query (CLI, Discord bot, subscription service) through
`parse_query`. Grammar (OR binds looser than AND; whitespace is AND):

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := [field ":"] "(" or ")" | [field ":"] (WORD | WORD* | "PHRASE" | "PHRASE"~N)
             | "author:" ("PERSON" | ORCID)
    field   := ti | abs | au | cat | src
    PERSON  := names and ORCIDs separated by ";" ("Yoshua Bengio; 0000-0002-9322-3515")

A field before a group applies to every term in it. Parentheses and NOTs nest at most
`QueryLimits.max_depth` levels. Parts that parse but look unintended add a warning to the query
(see `digest.query.warnings`) instead of silently matching something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.core.records import SOURCE_FAMILIES, source_tag
from digest.query.ast import (
    DEFAULT_FIELDS,
    FIELD_PREFIXES,
    And,
    Atom,
    Category,
    Node,
    Not,
    Or,
    Person,
    Phrase,
    Prefix,
    Query,
    QueryError,
    QueryLimits,
    can_match,
    iter_atoms,
)
from digest.query.people import identity_key_set, parse_identity
from digest.query.warnings import (
    ARCHIVES,
    bounded,
    comma_warnings,
    common_word_warnings,
    operator_symbol,
    phrase_warnings,
    word_warnings,
)
from digest.query.words import phrase_keys, prefix_key, word_atom

OPERATORS = ("AND", "OR", "NOT")
FIELD_NAMES = ("ti", "abs", "au", "cat", "src", "author")
FIELD_RE = re.compile(r"([A-Za-z]+):")
CATEGORY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]*")
SLOP_RE = re.compile(r"~(\d{1,2})(?=[\s()]|$)")
PREFIX_CORE_RE = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)*")  # as analysis.WORD_RE
# typographic quotes (what phones and Discord mobile send) and guillemets are quotes
QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a\u2033\u301d\u301e\uff02"})
WORD_STOP = set(' \t\r\n\f\v()"')
OPERAND = "a term, a phrase or ("


@dataclass(frozen=True)
class Token:
    kind: str  # "(" ")" "op" "neg" "field" "word" "phrase" "comma" "end"
    value: str
    position: int
    slop: int = 0  # a phrase's ~N


def _phrase(text: str, i: int) -> tuple[Token, int]:
    """The quoted phrase starting at `i` (with its ~N) and the position after it."""
    end = text.find('"', i + 1)
    if end < 0:
        raise QueryError("unbalanced quote", i, 'a closing "')
    after, slop = end + 1, 0
    if text.startswith("~", after):
        proximity = SLOP_RE.match(text, after)
        if not proximity:
            raise QueryError("invalid proximity", after, 'a number of positions up to 99, like "a b"~3')
        after, slop = proximity.end(), int(proximity.group(1))
    return Token("phrase", text[i + 1 : end], i, slop), after


def tokenize(text: str) -> list[Token]:
    text = text.translate(QUOTES)  # one character for one: positions stay those of the text typed
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(Token(char, char, i))
            i += 1
        elif char == '"':
            token, i = _phrase(text, i)
            tokens.append(token)
        elif char == "-":
            if i + 1 >= n or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError("dangling -", i, f"{OPERAND} right after -")
            tokens.append(Token("neg", "-", i))
            i += 1
        else:
            start = i
            field = FIELD_RE.match(text, i)
            if field:
                name = field.group(1).lower()
                if name not in FIELD_NAMES:
                    known = "one of ti:, abs:, au:, cat:, src:, author:"
                    raise QueryError(f"unknown field {field.group(1)}:", i, known)
                i = field.end()
                tokens.append(Token("field", name, start))
                if i >= n or text[i].isspace() or text[i] == ")":
                    raise QueryError(f"nothing after {name}:", i, f"a term, phrase or ( right after {name}:")
                continue
            while i < n and text[i] not in WORD_STOP and not text[i].isspace():
                i += 1
            word = text[start:i]
            if word.strip(","):
                tokens.append(Token("op" if word in OPERATORS else "word", word, start))
            else:  # a comma on its own ('"a b", c'): not a word; `comma_warnings` says so
                tokens.append(Token("comma", word, start))
    tokens.append(Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str, limits: QueryLimits) -> None:
        self.lexed = tokenize(text)
        self.tokens = [token for token in self.lexed if token.kind != "comma"]
        self.index = 0
        self.limits = limits
        self.clauses = 0
        self.depth = 0
        self.field: str | None = None  # set inside `ti:( ... )`
        self.warnings: list[str] = []
        self.starts: dict[int, int] = {}  # id(node) -> where it starts, to point at exclude-only parts

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def mark(self, node: Node, position: int) -> Node:
        self.starts.setdefault(id(node), position)
        return node

    def parse(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise QueryError("unbalanced parenthesis", token.position, "an opening ( before this )")
        assert token.kind == "end", token
        return node

    def require_operand(self, operator: Token) -> None:
        token = self.peek()
        if token.kind in ("end", ")") or (token.kind == "op" and token.value in ("AND", "OR")):
            raise QueryError(f"dangling operator {operator.value}", operator.position, f"{OPERAND} after it")

    def parse_or(self) -> Node:
        start = self.peek().position
        children = [self.parse_and()]
        while self.peek().kind == "op" and self.peek().value == "OR":
            self.require_operand(self.take())
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else self.mark(Or(tuple(children)), start)

    def parse_and(self) -> Node:
        start = self.peek().position
        children = [self.parse_unary()]
        while True:
            token = self.peek()
            if token.kind in ("end", ")") or (token.kind == "op" and token.value == "OR"):
                break
            if token.kind == "op" and token.value == "AND":
                self.require_operand(self.take())
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else self.mark(And(tuple(children)), start)

    def parse_unary(self) -> Node:
        token = self.peek()
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise QueryError(
                "nested too deeply", token.position, f"at most {self.limits.max_depth} levels of ( ) and NOT"
            )
        try:
            if token.kind == "neg" or (token.kind == "op" and token.value == "NOT"):
                self.take()
                self.require_operand(token)
                return self.mark(Not(self.parse_unary()), token.position)
            return self.parse_primary()
        finally:
            self.depth -= 1

    def parse_group(self, opening: Token, field: str | None) -> Node:
        if self.peek().kind == ")":
            raise QueryError("empty parentheses", self.peek().position, f"{OPERAND} inside ( )")
        outer, self.field = self.field, field or self.field
        node = self.parse_or()
        self.field = outer
        if self.peek().kind != ")":
            raise QueryError("unbalanced parenthesis", opening.position, "a closing ) for this (")
        self.take()
        return node

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind == "(":
            return self.parse_group(token, None)
        if token.kind == "op":
            raise QueryError(f"dangling operator {token.value}", token.position, f"{OPERAND} before it")
        if token.kind == ")":
            raise QueryError("unbalanced parenthesis", token.position, "an opening ( before this )")
        if token.kind == "end":
            raise QueryError("empty query", token.position, OPERAND)
        field = self.field
        if token.kind == "field":
            if self.field is not None:
                raise QueryError(f"{token.value}: inside {self.field}:( )", token.position, "one field per group")
            field = token.value
            token = self.take()
            if token.kind == "(" and field == "author":
                raise QueryError("author:( )", token.position, 'one person per author:, like author:"Yoshua Bengio"')
            if token.kind == "(":
                return self.parse_group(token, field)
            if token.kind not in ("word", "phrase"):
                raise QueryError(f"nothing after {field}:", token.position, f"a term or phrase right after {field}:")
        self.clauses += 1
        if self.clauses > self.limits.max_clauses:
            raise QueryError("too many clauses", token.position, f"at most {self.limits.max_clauses} terms or phrases")
        return self.mark(self.atom(field, token), token.position)

    def atom(self, field: str | None, token: Token) -> Atom:
        if field == "author":
            return _person(token)
        if field == "cat":
            return self.category(token)
        if field == "src":
            return self.source(token)
        fields = FIELD_PREFIXES[field] if field else DEFAULT_FIELDS
        if token.kind == "phrase":
            self.warnings.extend(phrase_warnings(token.value))
            stems = phrase_keys(fields, token.value)
            if not stems:
                raise QueryError("empty phrase", token.position, "words with letters or digits between the quotes")
            if token.slop and len(set(stems)) < len(stems):
                raise QueryError("a word repeats in a proximity phrase", token.position, 'each word once, like "a b"~3')
            # a one-word phrase is that word (a slop means nothing); keep the quotes to round-trip
            return Phrase(fields, token.value, stems, True, None, token.slop if len(stems) > 1 else 0)
        word = token.value
        symbol = operator_symbol(word)
        if symbol:
            raise QueryError(f"{word} is not an operator", token.position, symbol)
        self.warnings.extend(word_warnings(self.tokens, self.index - 1))
        if "*" in word:
            return _prefix(fields, token)
        atom = word_atom(fields, word)
        if atom is None:
            raise QueryError(f"no word in {word!r}", token.position, "letters or digits")
        return atom

    def category(self, token: Token) -> Category:
        value = token.value
        if token.kind != "word" or not CATEGORY_RE.fullmatch(value.removesuffix(".*")):
            raise QueryError(
                "invalid category", token.position, "a category like cat:cs.LG or an archive like cat:cs.*"
            )
        archive = value.endswith(".*")
        core = value.removesuffix(".*").lower().replace("_", " ")  # cat:cell_biology: a subject with spaces
        if not archive and core in ARCHIVES:
            archive = True  # `cat:cs` means the archive: no paper is filed under plain "cs"
            self.warnings.append(f"cat:{value} names a whole archive: it matches every {core}.* category")
        return Category(value, core, archive)

    def source(self, token: Token) -> Category:
        """`src:biorxiv`: papers a source of that kind reported (a tag the matcher's documents carry)."""
        name = token.value.lower()
        if token.kind != "word" or name not in SOURCE_FAMILIES.values():
            known = ", ".join(f"src:{n}" for n in dict.fromkeys(SOURCE_FAMILIES.values()))
            raise QueryError("unknown source", token.position, f"one of {known}")
        return Category(f"src:{name}", source_tag(name), False)


def _prefix(fields: tuple[str, ...], token: Token) -> Prefix:
    """`tokeniz*`, or `pre-train*`: the closed-up spelling's prefix ("pretrained", "pre-training")."""
    word = token.value
    core = word[:-1]
    if not word.endswith("*") or "*" in core:
        raise QueryError("misplaced *", token.position + word.index("*"), "* only at the end of a word")
    if not PREFIX_CORE_RE.fullmatch(core):
        raise QueryError("invalid prefix", token.position, "only letters, digits and hyphens before *")
    prefix, letters = prefix_key(fields, core)
    if letters < 3:
        raise QueryError("prefix too short", token.position, "at least 3 characters before *")
    return Prefix(fields, core, prefix)


def _person(token: Token) -> Person:
    """`author:"Yoshua Bengio; 0000-0002-9322-3515"` (or a bare ORCID): an identity, see digest.query.people."""
    try:
        names, orcids = parse_identity(token.value)
    except ValueError as refused:
        expected = 'a full name like author:"Yoshua Bengio"'
        raise QueryError(f"invalid author: {refused}", token.position, expected) from None
    return Person(names, orcids, identity_key_set(names, orcids))


def _exclude_only_position(parser: _Parser, node: Node) -> int:
    """Where the part that makes the query exclude-only starts."""
    while isinstance(node, (And, Or)):
        node = next(c for c in node.children if not can_match(c))
    return parser.starts.get(id(node), 0)


def parse_query(text: str, limits: QueryLimits | None = None) -> Query:
    """Parse `text` or raise `QueryError` saying where and what was expected."""
    limits = limits or QueryLimits()
    if len(text) > limits.max_length:
        raise QueryError("query too long", limits.max_length, f"at most {limits.max_length} characters")
    if not text.strip():
        raise QueryError("empty query", 0, OPERAND)
    parser = _Parser(text, limits)
    root = parser.parse()
    if not can_match(root):
        position = _exclude_only_position(parser, root)
        raise QueryError("query can only exclude", position, "at least one term or phrase that must match")
    assert sum(1 for _ in iter_atoms(root)) == parser.clauses
    warnings = [*comma_warnings(parser.lexed), *parser.warnings, *common_word_warnings(root)]
    return Query(text, root, bounded(warnings))
