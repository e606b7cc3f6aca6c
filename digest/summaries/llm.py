"""LLM summarizer: a TL;DR from any OpenAI-compatible `/v1/chat/completions` endpoint.

Used by `digest.summaries.summarize_papers` when `summarizer = "llm"` and `llm_base_url` is set
(OpenAI, llama.cpp server, vLLM, Ollama, …). This is the HTTP adapter of the summaries package: it
raises `LLMError(reason)` on anything but a clean, short answer, and the caller falls back to the
extractive summary and counts the reason in `SUMMARY_FALLBACKS`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter

from digest.summaries.extractive import normalize_whitespace

# Own registry (not prometheus_client's global one): the runtime's /metrics appends it to its own.
SUMMARY_REGISTRY = CollectorRegistry(auto_describe=True)
SUMMARY_FALLBACKS = Counter(
    "paperbell_summary_fallbacks_total",
    "LLM summaries that fell back to the extractive summary, by reason.",
    ["reason"],
    registry=SUMMARY_REGISTRY,
)
SUMMARIES = Counter(
    "paperbell_summaries_total", "Summaries produced, by method (source, cache, llm, extractive).", ["method"],
    registry=SUMMARY_REGISTRY,
)

SYSTEM_PROMPT = (
    "You write TL;DRs of research papers for a digest read by researchers. "
    "In one or two plain sentences say what the paper contributes and its main result. "
    "No preamble, no markdown, no bullet points, no quotes. At most {max_chars} characters."
)
_PREFIX = re.compile(r"^(?:tl;?dr|summary)\s*[:\-–]\s*", re.IGNORECASE)


class LLMError(Exception):
    """The endpoint gave no usable summary; `reason` is a short label for the fallback counter."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def completions_url(base_url: str) -> str:
    """`…/v1` + `/chat/completions`; a base URL without the `/v1` suffix gets it added."""
    base = base_url.rstrip("/")
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/chat/completions"


def clean_answer(text: str) -> str:
    """Strip the wrapping models like to add (whitespace, "TL;DR:", quotes, code fences)."""
    text = normalize_whitespace(text.strip().strip("`"))
    text = _PREFIX.sub("", text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def parse_answer(payload: Any) -> str:
    """The assistant message of a chat-completions response body, or LLMError('malformed')."""
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError("malformed", f"no choices[0].message.content ({exc!r})") from exc
    if not isinstance(content, str):
        raise LLMError("malformed", "content is not a string")
    return content


class LLMSummarizer:
    """One model behind one endpoint; shares the caller's httpx client (connection pooling)."""

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, model: str, api_key: str | None = None,
        timeout: float = 30.0, max_chars: int = 300,
    ) -> None:
        self.client = client
        self.url = completions_url(base_url)
        self.model = model
        self.name = f"llm:{model}"
        self.timeout = timeout
        self.max_chars = max_chars
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def request_body(self, title: str, abstract: str) -> dict[str, Any]:
        return {
            "model": self.model,
            "temperature": 0,
            # ~4 characters per token, with headroom so an answer is not cut mid-sentence
            "max_tokens": max(64, self.max_chars // 2),
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT.format(max_chars=self.max_chars)},
                {"role": "user", "content": f"Title: {title}\n\nAbstract: {abstract}"},
            ],
        }

    async def summarize(self, title: str, abstract: str) -> str:
        """A checked summary, or LLMError with reason timeout|http_<status>|transport|malformed|empty|overlong."""
        try:
            response = await self.client.post(
                self.url, json=self.request_body(title, abstract), headers=self.headers, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            raise LLMError("timeout", str(exc)) from exc
        except httpx.HTTPError as exc:
            raise LLMError("transport", str(exc)) from exc
        if response.status_code != 200:
            raise LLMError(f"http_{response.status_code}", response.text[:200])
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LLMError("malformed", "body is not JSON") from exc
        text = clean_answer(parse_answer(payload))
        if not text:
            raise LLMError("empty")
        if len(text) > self.max_chars:
            raise LLMError("overlong", f"{len(text)} > {self.max_chars} characters")
        return text
