"""The summary chain against a real OpenAI-compatible HTTP server on 127.0.0.1 and a real database.

The server's behaviour is chosen by the requested model name, so each case is also its own cache key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlmodel import select

from digest.settings import Settings
from digest.summaries import CIRCUIT_BREAK_AFTER, summarize_papers, summary_for
from digest.summaries.extractive import extractive_summary
from digest.summaries.llm import SUMMARY_REGISTRY, LLMSummarizer, clean_answer, completions_url
from storage.db import Database
from storage.models import Paper, SummaryCache

ANSWER = "FastLM decodes 3x faster than the baseline at equal quality."
ABSTRACT = (
    "Decoding is slow on small devices. We propose FastLM, a caching decoder. "
    "FastLM outperforms strong baselines by 12% on three benchmarks. Future work remains."
)


@dataclass
class FakeLLM:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    max_in_flight: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    gate_at: int = 2


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    fake = FakeLLM(base_url="")

    def reply(content: Any) -> web.Response:
        return web.json_response({"id": "x", "object": "chat.completion",
                                  "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        fake.requests.append({"body": body, "auth": request.headers.get("Authorization")})
        model = body["model"]
        fake.in_flight += 1
        fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if model == "slow":
                await fake.release.wait()  # answers only after the test ends; the client times out first
                return reply(ANSWER)
            if model == "gate":
                if fake.in_flight >= fake.gate_at:
                    fake.gate.set()
                await fake.gate.wait()
                return reply(f"Summary of {body['messages'][1]['content'].splitlines()[0]}.")
            if model == "429":
                return web.json_response({"error": "rate limited"}, status=429, headers={"Retry-After": "5"})
            if model == "500":
                return web.Response(status=500, text="boom")
            if model == "not-json":
                return web.Response(status=200, text="{not json", content_type="application/json")
            if model == "no-choices":
                return web.json_response({"object": "chat.completion", "choices": []})
            if model == "null-content":
                return reply(None)
            if model == "overlong":
                return reply("word " * 100)
            if model == "empty":
                return reply("   ")
            return reply(f"TL;DR: {ANSWER}")
        finally:
            fake.in_flight -= 1

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.base_url = f"http://{host}:{port}/v1"
    yield fake
    fake.release.set()
    fake.gate.set()
    await runner.cleanup()


def llm_settings(settings: Settings, llm: FakeLLM, model: str, **extra: Any) -> Settings:
    return settings.model_copy(
        update={"summarizer": "llm", "llm_base_url": llm.base_url, "llm_model": model,
                "llm_api_key": SecretStr("sk-test"), "llm_timeout": 5.0, **extra}
    )


def store_papers(db: Database, count: int = 1, prefix: str = "2401", **fields: Any) -> list[Paper]:
    with db.session() as session:
        papers = [Paper(canonical_id=f"{prefix}.{i:05d}", title=f"Paper {i}", abstract=ABSTRACT, **fields)
                  for i in range(count)]
        session.add_all(papers)
        session.flush()
        for paper in papers:
            session.refresh(paper)
        return papers


def fallbacks(reason: str) -> float:
    return SUMMARY_REGISTRY.get_sample_value("paperbell_summary_fallbacks_total", {"reason": reason}) or 0.0


def cache_rows(db: Database) -> list[tuple[int, str, str]]:
    with db.session() as session:
        return [(r.paper_id, r.model, r.summary) for r in session.exec(select(SummaryCache)).all()]


async def test_success_is_cleaned_cached_and_served_from_cache(settings: Settings, db: Database, llm: FakeLLM) -> None:
    papers = store_papers(db)
    pid = papers[0].id
    assert pid is not None
    config = llm_settings(settings, llm, "good-model")

    first = await summarize_papers(config, db, papers)
    second = await summarize_papers(config, db, papers)

    assert first == second == {pid: ANSWER}
    assert len(llm.requests) == 1  # the second call was a cache hit
    request = llm.requests[0]
    assert request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "good-model"
    prompt = request["body"]["messages"][1]["content"]
    assert "Paper 0" in prompt and ABSTRACT in prompt
    assert cache_rows(db) == [(pid, "good-model", ANSWER)]
    # Another model is another cache entry.
    await summarize_papers(llm_settings(settings, llm, "other-model"), db, papers)
    assert len(llm.requests) == 2


@pytest.mark.parametrize(
    ("model", "reason", "extra"),
    [
        ("slow", "timeout", {"llm_timeout": 0.3}),
        ("429", "http_429", {}),
        ("500", "http_500", {}),
        ("not-json", "malformed", {}),
        ("no-choices", "malformed", {}),
        ("null-content", "malformed", {}),
        ("overlong", "overlong", {}),
        ("empty", "empty", {}),
    ],
)
async def test_failures_fall_back_to_extractive_and_are_counted(
    settings: Settings, db: Database, llm: FakeLLM, model: str, reason: str, extra: dict[str, Any]
) -> None:
    papers = store_papers(db)
    before = fallbacks(reason)

    result = await summarize_papers(llm_settings(settings, llm, model, **extra), db, papers)

    assert result == {papers[0].id: extractive_summary(ABSTRACT)}
    assert len(llm.requests) == 1
    assert fallbacks(reason) == before + 1
    assert cache_rows(db) == []  # a failure is retried next time, not cached


async def test_an_unreachable_endpoint_falls_back(settings: Settings, db: Database, llm: FakeLLM) -> None:
    papers = store_papers(db)
    before = fallbacks("transport")
    config = settings.model_copy(update={"summarizer": "llm", "llm_base_url": "http://127.0.0.1:9/v1"})
    result = await summarize_papers(config, db, papers)
    assert result == {papers[0].id: extractive_summary(ABSTRACT)}
    assert fallbacks("transport") == before + 1


async def test_a_failing_endpoint_is_given_up_on_within_a_batch(settings: Settings, db: Database, llm: FakeLLM) -> None:
    papers = store_papers(db, count=CIRCUIT_BREAK_AFTER + 3)
    result = await summarize_papers(llm_settings(settings, llm, "500", llm_max_concurrency=1), db, papers)
    assert len(llm.requests) == CIRCUIT_BREAK_AFTER
    assert set(result.values()) == {extractive_summary(ABSTRACT)} and len(result) == len(papers)


async def test_concurrency_is_bounded(settings: Settings, db: Database, llm: FakeLLM) -> None:
    papers = store_papers(db, count=6)
    result = await summarize_papers(llm_settings(settings, llm, "gate", llm_max_concurrency=2), db, papers)
    assert len(llm.requests) == 6 and llm.max_in_flight == 2
    assert result == {p.id: f"Summary of Title: {p.title}." for p in papers}


async def test_source_summary_wins_and_extractive_is_the_default(
    settings: Settings, db: Database, llm: FakeLLM
) -> None:
    with_source = store_papers(db, extras={"ai_summary": "  The  source's own TL;DR. "})[0]
    assert await summarize_papers(llm_settings(settings, llm, "good"), db, [with_source]) == {
        with_source.id: "The source's own TL;DR."
    }
    plain = settings.model_copy(update={"llm_base_url": llm.base_url})  # summarizer stays "extractive"
    papers = store_papers(db, prefix="2402")
    assert await summarize_papers(plain, db, papers) == {papers[0].id: extractive_summary(ABSTRACT)}
    assert llm.requests == []


@pytest.mark.parametrize(
    ("extras", "expected"),
    [
        ({"ai_summary": "Short source TL;DR."}, "Short source TL;DR."),
        ({"ai_summary": "x " * 200}, extractive_summary(ABSTRACT)),  # overlong source summary: not a TL;DR
        ({"ai_summary": ""}, extractive_summary(ABSTRACT)),
        ({"ai_summary": 3}, extractive_summary(ABSTRACT)),
        ({}, extractive_summary(ABSTRACT)),
    ],
)
def test_summary_for(extras: dict[str, Any], expected: str) -> None:
    assert summary_for(Paper(canonical_id="x", title="T", abstract=ABSTRACT, extras=extras)) == expected


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://h:8080/v1", "http://h:8080/v1/chat/completions"),
        ("http://h:8080/v1/", "http://h:8080/v1/chat/completions"),
        ("http://h:11434", "http://h:11434/v1/chat/completions"),
    ],
)
def test_completions_url(base: str, url: str) -> None:
    assert completions_url(base) == url


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  TL;DR: It works.\n", "It works."),
        ('"Quoted answer."', "Quoted answer."),
        ("Summary - two\n lines.", "two lines."),
        ("```It works.```", "It works."),
    ],
)
def test_clean_answer(raw: str, clean: str) -> None:
    assert clean_answer(raw) == clean


async def test_request_body_is_plain_json() -> None:
    async with httpx.AsyncClient() as client:
        body = LLMSummarizer(client, base_url="http://h/v1", model="m", max_chars=300).request_body("T", "A")
    assert json.loads(json.dumps(body)) == body
    assert body["model"] == "m" and body["temperature"] == 0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "300 characters" in body["messages"][0]["content"]
