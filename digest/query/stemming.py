"""Word keys for matching: Unicode folding and an inflectional stemmer for scientific English.

Used by `digest.query.analysis` for text and queries alike. Pure functions, no shared mutable
state except the bounded cache (a dict, whose single operations are atomic under the GIL), so
previews in worker threads and a match cycle can analyse concurrently.

Why not Snowball: it strips derivational suffixes ("transformer" → "transform", "experience" and
"experiment" → "experi", "agentic" → "agent") and leaves acronym plurals alone ("llms"). Why not a
dictionary lemmatiser (simplemma): unknown ML words stay unlemmatised ("llms", "saes") and it is
inconsistent within a family ("embedding" → "embed", "embeddings" → "embedding"). The measured
comparison is in bench/stemmers.py and the README. This stemmer removes inflection only:
plurals (-s, -es, -ies), -ed and -ing, then a final -e, a doubled final consonant and a final -y
(→ -i), so every inflected form of a word meets its base form ("tune", "tuning", "tuned" → "tun").

Two kinds of keys are not stems, and carry a mark no folded token holds (tokens are letters and
digits), so they never meet a word: an acronym typed in capitals ("SAM" → "^SAM", see
`acronym_core`) and an author's name ("Roberts" → "@roberts", see `name_key`), which is folded but
never stemmed.
"""

from __future__ import annotations

import unicodedata
from importlib import resources

VOWELS = frozenset("aeiouy")
# the "-s" is part of the word, not a plural (without this "bias" and "biases" would differ)
S_WORDS = frozenset(
    [
        *("bias", "alias", "atlas", "canvas", "gas", "lens", "news", "series", "species", "corpus", "virus"),
        *("focus", "status", "consensus", "bonus", "census", "campus", "apparatus", "nexus", "chaos", "cosmos"),
        *("ethos", "pathos", "thus", "whereas", "perhaps", "always", "towards", "afterwards", "sometimes"),
    ]
)
# the "-ed"/"-ing" is part of the word (without this "embed" → "emb" but "embedding" → "embed"),
# or the "-ing" noun means something else than its verb ("reasoning" is not "reason", "settings"
# are not "sets": found reviewing the labelled queries)
ROOT_WORDS = frozenset(
    [
        *("embed", "testbed", "bed", "shed", "red", "fred", "hundred", "sacred", "naked", "wicked", "indeed"),
        *("being", "evening", "during", "nothing", "something", "anything", "everything", "morning", "ceiling"),
        *("reasoning", "setting", "meaning", "finding", "programming", "understanding", "beginning", "building"),
    ]
)


def _ing_nouns() -> frozenset[str]:
    """-ing forms that name a thing in ML text ("pooling", "grounding"), kept apart from their base
    word; the list is derived from real abstracts by bench/ing_nouns.py (data, not judgement)."""
    text = resources.files("digest").joinpath("data", "ing_nouns.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


ING_NOUNS = _ing_nouns()
ACRONYM_MARK = "^"  # "^SAM": the key of an acronym-shaped token, compared in upper case
NAME_MARK = "@"  # "@roberts": the key of a token of an author's name
INITIAL_MARK = "."  # "@y.": any name token starting with "y" (an initial in the query)
# German umlauts written out ("Schoelkopf" for "Schölkopf"): a name holding one is also indexed so
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
CACHE_LIMIT = 200_000  # distinct tokens kept; the cache is emptied when it grows past this


def fold(token: str) -> str:
    """Case- and accent-folded compatibility form: "Schrödinger" → "schrodinger", "ﬁne" → "fine"."""
    if token.isascii():
        return token.lower()
    decomposed = unicodedata.normalize("NFKD", token)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped.casefold())


def _has_vowel(text: str) -> bool:
    return not VOWELS.isdisjoint(text)


def singular(word: str) -> str:
    """Remove a plural -s/-es/-ies ("llms" → "llm", "saes" → "sae", "biases" → "bias")."""
    if not word.endswith("s") or word in S_WORDS or word.endswith("ss"):
        return word
    if len(word) == 3 or not _has_vowel(word[:-1]):
        # short acronym plurals: "lms", "rnns", "gpts", "gpus" (no vowel before the -s)
        return word[:-1] if not _has_vowel(word[:-1]) else word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("yses", "heses")):
        return word[:-2] + "is"  # "analyses" → "analysis", "hypotheses" → "hypothesis"
    if word.endswith("es") and word[:-2].endswith(("ss", "x", "z", "ch", "sh")):
        return word[:-2]
    if word.endswith(("us", "is")) and len(word) > 4:
        return word  # "corpus", "analysis", "basis"
    return word[:-1]


def _uninflect(word: str) -> str:
    """Remove -ed/-ing when a syllable remains ("trained" → "train", "bring" stays)."""
    if word in ROOT_WORDS:
        return word
    if word in ING_NOUNS:
        # one key for "modelling"/"modeling", "labelling"/"labeling": never the base word's
        return word[:-4] + "ing" if word[-4] == word[-5] and word[-4] not in VOWELS else word
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            rest = word[: -len(suffix)]
            if len(rest) >= 2 and _has_vowel(rest) and not word.endswith("eed"):
                if len(rest) == 2:
                    return rest + "e"  # "used", "using" → "use"
                if suffix == "ed" and rest.endswith("i"):
                    rest = rest[:-1] + "y"  # "studied" → "study"
                return rest
    return word


def inflect(token: str) -> str:
    """The key of a folded token: its base form up to inflection, with a canonical ending."""
    if not token.isalpha() or len(token) < 3:
        return token  # "gpt4", "3d", "x": nothing to remove
    word = _uninflect(singular(token))
    if len(word) >= 4 and word.endswith("e") and word[-2] not in "e":
        word = word[:-1]  # "tune" / "tun(ing)": both sides drop the -e
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in VOWELS and word[-1] != "s":
        word = word[:-1]  # "running" → "run", "modelling" → "model"
    if len(word) >= 4 and word.endswith("y"):
        word = word[:-1] + "i"  # "movies" → "movy" and "movie" → "movi" meet; "study" → "studi"
    return word


def acronym_core(surface: str) -> str | None:
    """The letters of an acronym-shaped token as written, or None: "SAMs" → "SAM" (plural), "SAM2" →
    "SAM" (version), "MoE" → "MoE"; a token needs two capitals ("Sam", "same" → None) and letters
    only once the plural and version are removed ("3DGS", "GPT4o" → None)."""
    core = surface
    if len(core) > 2 and core.endswith("s") and core[-2].isupper():
        core = core[:-1]
    core = core.rstrip("0123456789")
    if not core.isalpha() or sum(map(str.isupper, core)) < 2:
        return None
    return core


def acronym_key(core: str) -> str:
    """The key of an acronym (`acronym_core`): "MoE" and "MOE" meet, "moe" (a word) does not."""
    return ACRONYM_MARK + fold(core).upper()


def name_key(token: str) -> str:
    """The key of one folded token of an author's name: folded, never stemmed ("roberts" ≠ "robert")."""
    return NAME_MARK + token


def initial_key(token: str) -> str:
    """The key every name token starting with the same letter shares: "yoshua", "y" → "@y."."""
    return NAME_MARK + token[:1] + INITIAL_MARK


def umlauts_written_out(word: str) -> str | None:
    """"Schölkopf" → "schoelkopf" (folded), or None when the word holds no umlaut."""
    spelled = word.translate(UMLAUTS)
    return fold(spelled) if spelled != word else None


class StemCache(dict[str, str]):
    """token → key, computed on a miss; emptied when it reaches `CACHE_LIMIT` (bounded memory).

    Readers use `cache[token]` (never `.get`): a miss, also right after another thread emptied the
    cache, recomputes instead of failing.
    """

    def __missing__(self, token: str) -> str:
        if len(self) >= CACHE_LIMIT:
            self.clear()
        key = self[token] = inflect(token)
        return key
