"""Extractive TL;DR: one or two whole sentences of the abstract that state the contribution or result.

The default summarizer (no model, no network). Called by `digest.summaries` (the summary chain and
`summary_for`), by the email and Discord renderers through it, and by `paperbell summarize`.
Pure: text in, text out.

Guarantees: the result is non-empty for a non-empty abstract, at most `max_chars` characters, and made
of whole sentences of the (whitespace-normalized) abstract in their original order. Only when every
sentence is longer than `max_chars` is one sentence shortened, at a word boundary, ending in "…".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ELLIPSIS = "…"

# Words that end in a period without ending the sentence ("e.g.", "et al.", "Fig. 3").
# Compared case-insensitively, without the trailing period.
ABBREVIATIONS = frozenset(
    {
        "e.g", "i.e", "cf", "vs", "viz", "al", "approx", "resp", "w.r.t", "wrt", "fig", "figs",
        "eq", "eqs", "eqn", "eqns", "dr", "prof", "mr", "ms", "mrs", "jr", "inc", "ltd", "corp",
        "ca", "dept", "univ", "avg", "incl", "esp", "sect", "appx", "thm", "lem", "alg", "nos", "refs",
    }
)
# Abbreviations that are also ordinary words ("no", "app", "max"): not an end only before a
# number or a bracket ("No. 5", "Sec. 3", "Ref. [4]", "Prop. (2)").
NUMBERED_ABBREVIATIONS = frozenset(
    {"no", "vol", "pp", "ch", "app", "sec", "tab", "ref", "prop", "cor", "def", "min", "max", "est", "st", "art"}
)

# A candidate sentence end: terminal punctuation, optional closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")  # "e.g", "U.S", "w.r.t"
_BRACKET = re.compile(r"[()\[\]]")
_LATEX = re.compile(r"\$\$.+?\$\$|\$[^$]+\$|\\\(.+?\\\)|\\\[.+?\\\]")

# Cues that a sentence states what the paper contributes or finds.
CONTRIBUTION_CUES = re.compile(
    r"\b(?:we|this (?:paper|work|study|article)|our (?:work|paper|study))\s+(?:\w+\s+){0,2}?"
    r"(?:propose|introduce|present|develop|design|show|demonstrate|find|prove|establish|report|"
    r"release|derive|provide|construct|formulate|offer|achieve|obtain|observe|reveal|build|create|"
    r"investigate|study|analy[sz]e|explore|examine|address|tackle|describe|evaluate|extend|"
    r"conduct|identify|leverage)\w*"
    r"|\b(?:here|in this (?:paper|work|study|letter|article|survey|review|note|thesis|report))\b"
    r"|\b(?:outperform|surpass|improv|achiev|reduc|boost|exceed|speed(?:s|ing)?\s*up)\w*"
    r"|\bstate[- ]of[- ]the[- ]art\b|\bSOTA\b|\bnovel\b"
    r"|\bresults? (?:show|demonstrate|indicate|suggest|reveal)\w*"
    r"|\bexperiments? (?:show|demonstrate|indicate|on)\w*",
    re.IGNORECASE,
)
_PROPOSAL = re.compile(
    r"\b(?:we|this (?:paper|work|study|article|survey|review))\s+(?:\w+\s+){0,2}?"
    r"(?:propose|introduce|present|develop|design|release|derive|construct|formulate|review|survey)\w*"
    r"|\bin this (?:paper|work|study|letter|article|survey|review|note|thesis|report)\b|\bhere,? we\b",
    re.IGNORECASE,
)
_THIS_PAPER = re.compile(
    r"\b(?:in this|this) (?:paper|work|study|letter|article|survey|review|note|thesis|report)\b|\bhere,? we\b",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:outperform|surpass|exceed|achiev|improv|reduc|boost)\w*|\bstate[- ]of[- ]the[- ]art\b"
    r"|\b(?:we|results?|experiments?)\s+(?:\w+\s+){0,2}?(?:show|demonstrate|find|prove|reveal|indicate)\w*",
    re.IGNORECASE,
)
_QUANTITY = re.compile(
    r"\d(?:[\d.,]*\d)?\s*(?:%|percent|×|x\b|times\b|fold\b|[kKMGT]?(?:B|Hz|s|ms|FLOPs?)\b|points?\b|dB\b)"
    r"|\b\d+(?:\.\d+)?\s*(?:BLEU|F1|mAP|AUC|accuracy)\b",
    re.IGNORECASE,
)

# Cues of background or motivation (what others did, what is missing), not of the paper's news.
_BACKGROUND = re.compile(
    r"^(?:however|although|despite|while|recent(?:ly)?|existing|current(?:ly)?|traditional(?:ly)?|"
    r"prior|previous(?:ly)?|many|most|conventional)\b"
    r"|\b(?:remains? (?:a |an )?(?:challeng|open|unclear|difficult)\w*|fail(?:s|ed)? to|suffer\w*|"
    r"(?:has|have) (?:been|become|shown|achieved|emerged|made|attracted|gained|seen|led)|"
    r"(?:is|are) limited|struggle\w*)",
    re.IGNORECASE,
)


def normalize_whitespace(text: str) -> str:
    """Collapse runs of whitespace (newlines from PDFs and feeds) into single spaces."""
    return " ".join(text.split())


def _protected(text: str) -> bytearray:
    """A mask of positions where no sentence may end: inside LaTeX math or balanced brackets."""
    mask = bytearray(len(text))
    spans = [(m.start(), m.end()) for m in _LATEX.finditer(text)]
    stack: list[int] = []
    pairs = {")": "(", "]": "["}
    for bracket in _BRACKET.finditer(text):
        i, ch = bracket.start(), bracket.group()
        if ch in "([":
            stack.append(i)
        elif stack and text[stack[-1]] == pairs[ch]:
            spans.append((stack.pop(), i + 1))
    # The closing character itself is not protected: "(see Fig. 2.)" may end where it closes.
    for start, end in spans:
        mask[start + 1 : end - 1] = b"\x01" * max(end - start - 2, 0)
    return mask


def _is_boundary(text: str, dot: int, end: int) -> bool:
    """Whether the punctuation starting at `dot` (match ending at `end`) really ends a sentence."""
    rest = text[end:].lstrip()
    if not rest:
        return True
    nxt = rest[0]
    # A sentence starts with a capital, a digit, a quote, a bracket or math; "e.g. the" does not end one.
    if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([$\\"):
        return False
    if text[dot] != ".":
        return True
    token = text[text.rfind(" ", 0, dot) + 1 : dot].lstrip("([\"'“‘")
    lowered = token.lower()
    if lowered in ABBREVIATIONS or _INITIALISM.match(token):
        return False
    # A lone capital still ends a sentence ("a set X. We show"): author initials are rare in abstracts.
    return not (lowered in NUMBERED_ABBREVIATIONS and (nxt.isdigit() or nxt in "(["))


def split_sentences(text: str) -> list[str]:
    """Split whitespace-normalized text into sentences, keeping every character but the gaps."""
    return list(_split_cached(text))


# The same abstracts are split again and again (every digest that shows a paper: its summary and its
# snippet): a bounded cache keyed by the text itself; callers get their own list.
@lru_cache(maxsize=8192)
def _split_cached(text: str) -> tuple[str, ...]:
    return tuple(_split(text))


def _split(text: str) -> list[str]:
    text = normalize_whitespace(text)
    if not text:
        return []
    protected = _protected(text)
    sentences: list[str] = []
    start = 0
    for match in _END.finditer(text):
        dot = match.start()
        if protected[dot]:
            continue
        if not _is_boundary(text, dot, match.end()):
            continue
        piece = text[start : match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


@dataclass(frozen=True)
class _Scored:
    index: int
    text: str
    proposal: bool
    result: bool
    score: float


def _score(index: int, sentence: str, count: int) -> _Scored:
    proposal = bool(_PROPOSAL.search(sentence))
    quantity = bool(_QUANTITY.search(sentence))
    result = quantity or bool(_RESULT.search(sentence))
    score = 0.0
    if proposal:
        score += 3.0
    if result:
        score += 2.0
    if CONTRIBUTION_CUES.search(sentence):
        score += 1.0
    if quantity:
        score += 0.5
    # The opening sentence is usually background; the last often a forward-looking remark.
    if index == 0 and count > 1:
        score -= 0.75
    if sentence.endswith("?"):
        score -= 1.0
    if _BACKGROUND.search(sentence):
        score -= 1.5
    if _THIS_PAPER.search(sentence):  # the most reliable marker of "what this paper does"
        score += 1.0
    return _Scored(index, sentence, proposal, result, score)


def _shorten(sentence: str, max_chars: int) -> str:
    """Cut a too-long sentence at the last word boundary that fits, marking the cut."""
    limit = max_chars - len(ELLIPSIS)
    if limit <= 0:
        return sentence[:max_chars]
    head = sentence[: limit + 1]
    cut = head.rfind(" ")
    if cut <= 0:
        return sentence[:limit] + ELLIPSIS
    return sentence[:cut].rstrip(" ,;:") + ELLIPSIS


@lru_cache(maxsize=8192)  # a pure function of the text, asked for once per digest that shows the paper
def extractive_summary(abstract: str, max_chars: int = 300) -> str:
    """One or two sentences of `abstract` that say what is new, in order, at most `max_chars` long."""
    sentences = split_sentences(abstract)
    if not sentences:
        return ""
    scored = [_score(i, s, len(sentences)) for i, s in enumerate(sentences)]
    fitting = [s for s in scored if len(s.text) <= max_chars]
    if not fitting:
        best = max(scored, key=lambda s: (s.score, -s.index))
        return _shorten(best.text, max_chars)
    # Best single sentence: highest score, earlier wins ties.
    best = max(fitting, key=lambda s: (s.score, -s.index))
    chosen = [best]
    # Add a companion that covers what the best one lacks: a result after a proposal, or the
    # proposal behind a result. A "result" before the proposal is usually motivation, so not that.
    companions = [
        s
        for s in fitting
        if s.index != best.index
        and s.score >= 1.5
        and len(best.text) + 1 + len(s.text) <= max_chars
        and (
            (s.result and not s.proposal and s.index > best.index and (best.proposal or not best.result))
            or (s.proposal and not best.proposal)
        )
    ]
    if companions:
        chosen.append(max(companions, key=lambda s: (s.score, -s.index)))
    chosen.sort(key=lambda s: s.index)
    return " ".join(s.text for s in chosen)


def has_contribution_cue(summary: str) -> bool:
    """Whether a summary states a contribution or result (used by tests and measurements)."""
    return bool(CONTRIBUTION_CUES.search(summary) or _QUANTITY.search(summary))
