"""Query text → `Query` tree: a small lexer and a recursive-descent parser with pointed errors.

Called by every interface that accepts a query (CLI, Discord bot, subscription service) through
`parse_query`. Grammar (OR binds looser than AND; whitespace is AND):

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | [field ":"] (WORD | WORD* | "PHRASE")     field := ti | abs | au | cat
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.query.analysis import query_tokens, stem
from digest.query.ast import (
    DEFAULT_FIELDS,
    FIELD_PREFIXES,
    And,
    Atom,
    Category,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    QueryError,
    QueryLimits,
    Term,
    can_match,
    iter_atoms,
)

OPERATORS = ("AND", "OR", "NOT")
FIELD_NAMES = ("ti", "abs", "au", "cat")
FIELD_RE = re.compile(r"([A-Za-z]+):")
CATEGORY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]*")
WORD_STOP = set(' \t\r\n\f\v()"')
OPERAND = "a term, a phrase or ("


@dataclass(frozen=True)
class Token:
    kind: str  # "(" ")" "op" "neg" "field" "word" "phrase" "end"
    value: str
    position: int


def tokenize(text: str) -> list[Token]:
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
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError("unbalanced quote", i, 'a closing "')
            tokens.append(Token("phrase", text[i + 1 : end], i))
            i = end + 1
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
                    raise QueryError(f"unknown field {field.group(1)}:", i, "one of ti:, abs:, au:, cat:")
                i = field.end()
                tokens.append(Token("field", name, start))
                if i >= n or text[i].isspace() or text[i] in "()":
                    raise QueryError(f"nothing after {name}:", i, f"a term or phrase right after {name}:")
                continue
            while i < n and text[i] not in WORD_STOP and not text[i].isspace():
                i += 1
            word = text[start:i]
            tokens.append(Token("op" if word in OPERATORS else "word", word, start))
    tokens.append(Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str, limits: QueryLimits) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.limits = limits
        self.clauses = 0
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
        if token.kind == "neg" or (token.kind == "op" and token.value == "NOT"):
            self.take()
            self.require_operand(token)
            return self.mark(Not(self.parse_unary()), token.position)
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind == "(":
            if self.peek().kind == ")":
                raise QueryError("empty parentheses", self.peek().position, f"{OPERAND} inside ( )")
            node = self.parse_or()
            if self.peek().kind != ")":
                raise QueryError("unbalanced parenthesis", token.position, "a closing ) for this (")
            self.take()
            return node
        if token.kind == "op":
            raise QueryError(f"dangling operator {token.value}", token.position, f"{OPERAND} before it")
        if token.kind == ")":
            raise QueryError("unbalanced parenthesis", token.position, "an opening ( before this )")
        if token.kind == "end":
            raise QueryError("empty query", token.position, OPERAND)
        field = None
        if token.kind == "field":
            field = token.value
            token = self.take()
        self.clauses += 1
        if self.clauses > self.limits.max_clauses:
            raise QueryError("too many clauses", token.position, f"at most {self.limits.max_clauses} terms or phrases")
        return self.mark(self.atom(field, token), token.position)

    def atom(self, field: str | None, token: Token) -> Atom:
        if field == "cat":
            return _category(token)
        fields = FIELD_PREFIXES[field] if field else DEFAULT_FIELDS
        if token.kind == "phrase":
            parts = query_tokens(token.value)
            if not parts:
                raise QueryError("empty phrase", token.position, "words with letters or digits between the quotes")
            if len(parts) == 1:
                # a one-word phrase is that word; keep the quotes so the text round-trips
                return Phrase(fields, token.value, (stem(parts[0]),), True)
            return Phrase(fields, token.value, tuple(stem(p) for p in parts), True)
        word = token.value
        if "*" in word:
            core = word[:-1]
            if not word.endswith("*") or "*" in core:
                raise QueryError("misplaced *", token.position + word.index("*"), "* only at the end of a word")
            if not core.isalnum() or "_" in core:
                raise QueryError("invalid prefix", token.position, "only letters and digits before *")
            if len(core) < 3:
                raise QueryError("prefix too short", token.position, "at least 3 characters before *")
            return Prefix(fields, core, core.lower())
        parts = query_tokens(word)
        if not parts:
            raise QueryError(f"no word in {word!r}", token.position, "letters or digits")
        if len(parts) == 1:
            return Term(fields, word, stem(parts[0]))
        return Phrase(fields, word, tuple(stem(p) for p in parts), False)


def _category(token: Token) -> Category:
    value = token.value
    if token.kind != "word" or not CATEGORY_RE.fullmatch(value.removesuffix(".*")):
        raise QueryError("invalid category", token.position, "a category like cat:cs.LG or an archive like cat:cs.*")
    archive = value.endswith(".*")
    return Category(value, value.removesuffix(".*").lower(), archive)


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
    return Query(text, root)
