"""Ground truth for the labelled ML queries: a hand-written regex per query plus reviewed exceptions.

Run `python -m tests.digest.query.labelled_truth` to regenerate labelled_queries.json from these
rules and the seed corpus. The truth never comes from the analyser: each regex spells out, by hand,
the spellings a researcher means (acronym plurals, hyphenated/joined/spaced compounds, inflected
forms), and every paper where the regex and the analyser disagreed was read and, where the regex
was wrong about meaning, listed in EXCLUDE/INCLUDE with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "digest" / "data" / "seed_papers.jsonl"  # = ../shared/corpus
OUTPUT = Path(__file__).with_name("labelled_queries.json")

# query -> regex over title + "\n" + abstract (case-insensitive); "ti:" = title only
RULES: list[tuple[str, str]] = [
    ("llm", r"\bLLMs?\b"),
    ("LLMs", r"\bLLMs?\b"),
    ("GAN", r"\bGANs?\b"),
    ("RNNs", r"\bRNNs?\b"),
    ("SAE", r"\bSAEs?\b"),
    ("SLMs", r"\bSLMs?\b"),
    ("SSM", r"\bSSMs?\b"),
    ("GPUs", r"\bGPUs?\b"),
    ("MoE", r"\bMoEs?\b"),
    ("RLHF", r"\bRLHF\b"),
    ("fine-tuning", r"\bfine[- ]?tun(e|es|ed|ing|ings)\b"),
    ("pre-training", r"\bpre[- ]?train(s|ed|ing|ings)?\b"),
    ("pre-train*", r"\bpre-?train\w*"),
    ("multi-modal", r"\bmulti[- ]?modal\b"),
    ("auto-encoder", r"\bauto[- ]?encoders?\b"),
    ("gpt-4", r"\bGPT[- ]?4\b"),
    ("3-D", r"\b3[- ]?D\b"),
    ("zero-shot", r"\bzero[- ]?shot\b"),
    ("few-shot", r"\bfew[- ]?shot\b"),
    ("open-source", r"\bopen[- ]?sourc(e|es|ed|ing)\b"),
    ("multi-agent", r"\bmulti[- ]?agents?\b"),
    ("self-supervised", r"\bself[- ]?supervised\b"),
    ("long-context", r"\blong[- ]?contexts?\b"),
    ("state-of-the-art", r"\bstate[- ]of[- ]the[- ]art\b"),
    ("chain-of-thought", r"\bchain[- ]of[- ]thoughts?\b"),
    ("retrieval-augmented", r"\bretrieval[- ]?augment(s|ed|ing)?\b"),
    ("transformer", r"\btransformers?\b"),
    ("transform", r"\btransform(s|ed|ing)?\b"),
    ("experience", r"\bexperienc(e|es|ed|ing)\b"),
    ("experiments", r"\bexperiment(s|ed|ing)?\b"),
    ("agentic", r"\bagentic\b"),
    ("agents", r"\bagents?\b"),
    ("attention", r"\battentions?\b"),
    ("embeddings", r"\bembed(s|ded|ding|dings)?\b"),
    ("tokenizer", r"\btokenizers?\b"),
    ("tokeniz*", r"\btokeniz\w*"),
    ("hallucination", r"\bhallucinations?\b"),
    ("hallucinate", r"\bhallucinat(e|es|ed|ing)\b"),
    ("benchmarks", r"\bbenchmark(s|ed|ing)?\b"),
    ("quantization", r"\bquantizations?\b"),
    ("distillation", r"\bdistillations?\b"),
    ("naive", r"\bnaive\b"),
    ("reasoning", r"\breason(ing|ings|ed)\b"),
    ("diffusion OR flow", r"\bdiffusions?\b|\bflow(s|ed|ing)?\b"),
    ("ti:(diffusion OR flow)", r"ti:\bdiffusions?\b|\bflow(s|ed|ing)?\b"),
    ('"sparse autoencoder"', r"\bsparse auto-?encoders?\b"),
    ('"language models"', r"\blanguage[- ]model(s|ed|ing|led|ling)?\b"),
    ('"reinforcement learning"', r"\breinforcement learn(s|ed|ing)?\b"),
    ('"in-context learning"', r"\bin[- ]context learn(s|ed|ing)?\b"),
    ('"mixture of experts"', r"\bmixture[- ]of[- ]experts?\b"),
    ('"scaling laws"', r"\bscal(e|es|ed|ing)[- ]laws?\b"),
    ('"speculative decoding"', r"\bspeculative decod(e|es|ed|ing)\b"),
    ('"sparse autoencoder"~2', r"\bsparse\W+(?:\w+\W+){0,2}auto-?encoders?\b|\bauto-?encoders?\W+sparse\b"),
]

# papers the regex finds but a researcher would not mean (read one by one)
EXCLUDE: dict[str, dict[int, str]] = {
    "embeddings": {
        308: '"embedded devices": hardware, not vector embeddings',
        380: '"potentialities embedded in the knowledge": the verb, not embeddings',
    },
}
# papers the regex misses but a researcher would mean
INCLUDE: dict[str, dict[int, str]] = {}
# reviewed, kept as the regex says (recorded so the next reviewer need not redo it)
REVIEWED: dict[str, str] = {
    "reasoning": 'papers with only "reason(s)" (24, 179, 189, 283, 316) are not about reasoning: left out',
    "experience": '"experience(d/s)" in 179, 185, 233, 321 all mean experience; "experiment" is never meant',
    "benchmarks": '"benchmarking"/"benchmarked" (36, 76, 134, 221, 306, 321) are about benchmarks: kept',
    "open-source": '"open-sourced" (42, 99, 234, 241, 338, 391) means released as open source: kept',
    '"language models"': '"language-model based" (380) is a language model: hyphen = space',
}


def load_corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def truth(query: str, rule: str, docs: list[dict[str, str]]) -> list[int]:
    title_only = rule.startswith("ti:")
    pattern = re.compile(rule.removeprefix("ti:"), re.IGNORECASE)
    found = {
        index
        for index, doc in enumerate(docs)
        if pattern.search(doc["title"] if title_only else doc["title"] + "\n" + doc["abstract"])
    }
    found -= set(EXCLUDE.get(query, {}))
    found |= set(INCLUDE.get(query, {}))
    return sorted(found)


def build() -> list[dict[str, object]]:
    docs = load_corpus()
    return [
        {
            "query": query,
            "truth_regex": rule,
            "excluded": {str(k): v for k, v in EXCLUDE.get(query, {}).items()},
            "included": {str(k): v for k, v in INCLUDE.get(query, {}).items()},
            "review": REVIEWED.get(query, ""),
            "papers": truth(query, rule, docs),
        }
        for query, rule in RULES
    ]


if __name__ == "__main__":
    rows = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in build())
    OUTPUT.write_text(f"[\n{rows}\n]\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(RULES)} queries)")
