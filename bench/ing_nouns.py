"""Derive the -ing nouns kept apart from their base word (digest/data/ing_nouns.txt) from real text.

Run: `python bench/ing_nouns.py [--corpus ../shared/corpus/arxiv_2026/papers.jsonl] [--write]` —
prints one JSON line per candidate with its counts and whether it is kept apart; `--write` rewrites
the shipped list. The inflectional stemmer joins "pooling" with "pool" and "grounding" with "ground";
in ML text such an -ing form often names a thing (a method, a task) while its base word is a
different noun ("ground truth", "a pool of candidates"). Measured on titles and abstracts, with
hyphenated compounds as one token ("fine-tune" is a compound, not "tune"):

- frequent: the -ing form (with its -ings plural) occurs at least MIN_COUNT times;
- used as a noun: in at least NOUN_SHARE of its occurrences it ends a noun phrase — the next token
  is punctuation, "and"/"or" or a form of "be"/"have" ("visual grounding, …", "mean pooling and …"),
  which a verb taking an object ("maintaining the …") or a participle before its noun ("promising
  results") does not do;
- its base is not used as that verb: the base forms (bare and -s, not -ed) follow "to", a modal or a
  subject pronoun ("to train", "we sample") in less than VERB_SHARE of their occurrences.

Only words the stemmer would otherwise join are candidates (the -ing form's key differs from the
word); words already in the stemmer's hand-kept list are reported, not repeated.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv_2026" / "papers.jsonl"
OUTPUT = ROOT / "digest" / "data" / "ing_nouns.txt"
MIN_COUNT = 100
NOUN_SHARE = 0.3
VERB_SHARE = 0.15
TOKEN_RE = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|[.,;:()]")
NOUN_PHRASE_ENDS = frozenset({
    ".", ",", ";", ":", "(", ")", "and", "or", "is", "are", "was", "were", "be", "been", "has", "have", "had"
})
VERB_CONTEXT = frozenset({
    "to", "we", "can", "may", "will", "could", "would", "should", "must", "might", "they", "you", "i",
    "cannot"
})


def measure(corpus: Path) -> list[dict[str, object]]:
    from digest.query import stemming
    from digest.query.stemming import ROOT_WORDS, inflect

    stemming.ING_NOUNS = frozenset()  # measure the stemmer without the list this derives

    count: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    verbal: Counter[str] = Counter()
    with corpus.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            tokens = [t.lower() for t in TOKEN_RE.findall(f"{record['title']} . {record['abstract']}")] + ["."]
            for i, token in enumerate(tokens[:-1]):
                count[token] += 1
                ends[token] += tokens[i + 1] in NOUN_PHRASE_ENDS
                verbal[token] += i > 0 and tokens[i - 1] in VERB_CONTEXT
    family: dict[str, list[str]] = defaultdict(list)
    for token in count:
        if token.isalpha():
            family[inflect(token)].append(token)
    rows = []
    for word in sorted(count):
        if not word.endswith("ing") or not word.isalpha() or inflect(word) == word:
            continue
        forms = family[inflect(word)]
        ing = [t for t in forms if t.endswith(("ing", "ings"))]
        base = [t for t in forms if not t.endswith(("ing", "ings", "ed"))]
        uses = sum(count[t] for t in ing)
        base_uses = sum(count[t] for t in base)
        if uses < MIN_COUNT or not base_uses:
            continue
        noun = sum(ends[t] for t in ing) / uses
        verb = sum(verbal[t] for t in base) / base_uses
        rows.append({
            "word": word, "count": uses, "noun_share": round(noun, 3), "base": sorted(base, key=count.__getitem__)[-1],
            "base_count": base_uses, "base_verb_share": round(verb, 3),
            "kept_apart": noun >= NOUN_SHARE and verb < VERB_SHARE, "hand_kept": word in ROOT_WORDS,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--write", action="store_true", help=f"rewrite {OUTPUT.relative_to(ROOT)}")
    args = parser.parse_args()
    rows = measure(args.corpus)
    for row in rows:
        print(json.dumps(row))
    if args.write:
        words = sorted(str(r["word"]) for r in rows if r["kept_apart"] and not r["hand_kept"])
        header = (
            f"# -ing nouns kept apart from their base word; derived by bench/ing_nouns.py from {args.corpus.name}\n"
            f"# (min count {MIN_COUNT}, noun share >= {NOUN_SHARE}, base verb share < {VERB_SHARE}); do not edit\n"
        )
        OUTPUT.write_text(header + "".join(f"{w}\n" for w in words), encoding="utf-8")


if __name__ == "__main__":
    main()
