"""Warnings for query parts that parse but probably do not say what the user meant.

Called by the parser; the warnings travel on `Query.warnings` to every preview (CLI `paperbell
match`, the bot's /subscribe, /search). The query still runs exactly as written: a warning never
changes what matches, it tells the user why a result may surprise them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from digest.query.ast import ATOM_TYPES, And, Node, Not, Or, Phrase, Term
from digest.query.stemming import fold

# arXiv archives that have subject classes ("cs.LG"): `cat:cs` can only mean the whole archive
ARCHIVES = frozenset(
    ["cs", "math", "stat", "physics", "q-bio", "q-fin", "eess", "econ", "astro-ph", "cond-mat", "nlin"]
)
# what other search engines call an operator; here they are searched as words
OPERATOR_LIKE = {
    "NEAR": 'a proximity phrase like "a b"~5',
    "XOR": "OR",
    "ADJ": 'a phrase like "a b"',
    "ANDNOT": "AND NOT",
    "WITHIN": 'a proximity phrase like "a b"~5',
}
# symbols some engines use as operators: refused, with the operator meant
SYMBOLS = {"&&": "AND", "&": "AND", "||": "OR", "|": "OR", "!": "NOT", "+": "a word (every word is required)"}
LOWER_OPERATORS = ("and", "or", "not")
# characters dropped by analysis that users type on purpose ("C++", "C#", "node.js" is fine: two words)
DROPPED = re.compile(r"[+#@$%&=<>|!~^]")
# words found in (nearly) every abstract: a query made only of them matches everything
COMMON_WORDS = frozenset({
    "a", "an", "the", "of", "and", "or", "not", "in", "on", "at", "to", "for", "from", "by", "with",
    "without", "as", "is", "are", "be", "was", "were", "we", "our", "this", "that", "these", "those", "it",
    "its", "which", "using", "use", "used", "based", "via", "into", "than", "then", "paper", "papers",
    "method", "methods", "approach", "results", "propose", "proposed",
})
OPERAND_KINDS = ("word", "phrase", "(", "field")
MAX_WARNINGS = 3  # a preview shows at most this many (+ a count): replies have length limits
QUOTED_MAX = 30  # characters of the user's word quoted in a warning


def quote(word: str) -> str:
    """The user's word in double quotes, clipped: a 400-character word must not fill a reply."""
    return f'"{word}"' if len(word) <= QUOTED_MAX else f'"{word[: QUOTED_MAX - 1]}…"'


def bounded(warnings: list[str]) -> tuple[str, ...]:
    """Distinct warnings in order, at most `MAX_WARNINGS` and a line saying how many more."""
    distinct = list(dict.fromkeys(warnings))
    if len(distinct) <= MAX_WARNINGS:
        return tuple(distinct)
    return (*distinct[:MAX_WARNINGS], f"… and {len(distinct) - MAX_WARNINGS} more warnings")


def operator_symbol(word: str) -> str | None:
    """What to write instead of a symbol used as an operator ("&&" → "AND"), else None."""
    meant = SYMBOLS.get(word)
    return f"{meant} instead" if meant else None


def phrase_warnings(text: str) -> list[str]:
    if "*" in text:
        hint = "write it outside quotes, like tokeniz*"
        return [f"{quote(text)}: * inside quotes is not a wildcard (it is ignored); {hint}"]
    return []


def word_warnings(tokens: Sequence[Any], index: int) -> list[str]:
    """Warnings about the word token at `index` of the parser's token list."""
    word: str = tokens[index].value
    out: list[str] = []
    before = tokens[index - 1].kind if index > 0 else "start"
    after = tokens[index + 1].kind
    if (
        word.lower() in LOWER_OPERATORS
        and before in ("word", "phrase", ")")
        and after in ("word", "phrase", "(", "field")
    ):
        out.append(f"{quote(word)} is searched as a word; did you mean {word.upper()}? (operators are upper-case)")
    elif word.lower() == "not" and before in ("start", "(") and after in OPERAND_KINDS:
        out.append(f'{quote(word)} is searched as a word; to exclude, write NOT (upper-case) or -word')
    upper = re.sub(r"/\d+$", "", word)
    if upper in OPERATOR_LIKE:
        out.append(f"{quote(word)} is not an operator and is searched as a word; use {OPERATOR_LIKE[upper]}")
    if word.startswith("+") and len(word) > 1:
        out.append(f"{quote(word)}: + is ignored (every word is already required)")
    elif DROPPED.search(word.rstrip("*")):
        kept = " ".join(part for part in re.split(r"[^\w]+", word) if part)
        out.append(f"{quote(word)}: symbols are not indexed, this searches {quote(kept)}")
    return out


def comma_warnings(tokens: Sequence[Any]) -> list[str]:
    """Commas are not operators: "llm, vlm" needs both words, "llm,vlm" is the phrase "llm vlm"."""
    out: list[str] = []
    run: list[str] = []
    for index, token in enumerate(tokens):
        if token.kind == "comma":
            out.append("a comma is not an operator, every part is required; use OR between alternatives")
            continue
        if token.kind != "word":
            run = []
            continue
        parts = [part for part in token.value.split(",") if part]
        if len(parts) > 1:
            out.append(f"{quote(token.value)} is searched as the phrase {quote(' '.join(parts))}; "
                       f"did you mean {' OR '.join(parts)}?")
        run.extend(parts)
        following = tokens[index + 1]
        if not token.value.endswith(",") or following.kind != "word":
            if len(run) > 1 and tokens[index - 1].value.endswith(","):
                out.append(f"{quote(', '.join(run))}: a comma is not an operator, every word is required; "
                           f"did you mean {' OR '.join(run)}?")
            run = []
    return out


def _required(node: Node) -> Iterator[Node]:
    """The atoms that can make the query match (NOT parts excluded)."""
    if isinstance(node, ATOM_TYPES):
        yield node
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from _required(child)
    else:
        assert isinstance(node, Not)


def common_word_warnings(root: Node) -> list[str]:
    """A query whose every word is a common word ("the", "model") matches nearly every paper."""
    words: list[str] = []
    for atom in _required(root):
        if not isinstance(atom, (Term, Phrase)) or atom.fields == ("authors",):
            return []
        typed = re.findall(r"[^\W_]+", atom.word if isinstance(atom, Term) else atom.text)
        if not typed or not all(fold(word) in COMMON_WORDS for word in typed):
            return []
        words.extend(typed)
    shown = " ".join(dict.fromkeys(words))
    return [f"{quote(shown)}: only common words, which nearly every paper has; add a more specific word"]
