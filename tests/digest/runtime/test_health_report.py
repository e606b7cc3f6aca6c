"""After a cycle the admins get a short health report: by mail (a real aiosmtpd server) and in the Discord
notify channel (the Discord double); a daily digest on a quiet arXiv day says why."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from digest.core.assembly import DigestItem, Recipient
from digest.email.render import Links, render_capped
from digest.runtime.health_report import report_lines
from digest.runtime.once import CycleReport, run_cycle
from digest.runtime.parts import build_parts
from digest.services.ingest import IngestReport
from digest.settings import Settings
from tests.bot.discord_double import DiscordDouble
from tests.conftest import data_path
from tests.digest.runtime.procs import SmtpSink

SATURDAY_EVENING = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # Sat 28 Nov, 21:00 US/Eastern


async def test_report_reaches_admins_by_mail_and_discord(settings: Settings) -> None:
    seed = data_path("corpus/seed_papers.jsonl")
    double = await DiscordDouble().start()
    try:
        guild = double.add_guild("Lab")
        channel = double.add_channel(guild, "paperbell-admin")
        with SmtpSink() as smtp:
            configured = settings.model_copy(update={
                "sources": [f"file:{seed}", "file:/nonexistent/feed.jsonl"],
                "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
                "admin_emails": ["ops@example.org"], "admin_discord_channel": channel,
                "discord_token": SecretStr("test-token"), "discord_api_base": double.api_base,
            })
            parts = build_parts(configured, migrate=False)
            try:
                report = await run_cycle(parts)
            finally:
                await parts.aclose()
            [mail] = smtp.snapshot()
        posted = double.messages[channel]
    finally:
        await double.close()
    assert not report.ok  # a failing source
    assert not [note for note in report.notes if note.startswith("health report")]  # both reports delivered
    assert mail.to == "ops@example.org"
    assert f"file:{seed}: 393 new" in mail.text and "Failures:" in mail.text and "/nonexistent/feed.jsonl" in mail.text
    assert len(posted) == 1 and posted[0]["content"].splitlines() == mail.text.splitlines()


def test_report_on_a_saturday_says_arxiv_is_quiet() -> None:
    report = CycleReport(started_at=SATURDAY_EVENING, ingest=[IngestReport("arxiv:cs.LG", status="empty")])
    lines = report_lines(report, ["arxiv:cs.LG"])
    assert lines[1] == "No new arXiv papers today: no announcement on Saturdays"
    assert "  arxiv:cs.LG: 0 new, 0 updated (empty)" in lines


def test_report_lists_queries_that_matched_nothing_for_30_days() -> None:
    report = CycleReport(started_at=SATURDAY_EVENING, ingest=[])
    silent = [{"subscription_id": n, "subscriber_id": 1, "query": f"q{n}"} for n in range(1, 8)]
    lines = report_lines(report, [], silent)
    assert "Queries that matched nothing in 30 days: 7" in lines
    assert "  #1 (subscriber #1): q1" in lines and not any("q6" in line for line in lines)  # five shown


def test_daily_digest_on_a_quiet_day_says_why(settings: Settings) -> None:
    item = DigestItem(delivery_id=1, paper_id=1, subscription_id=1, query="q", title="T", summary="S.")
    arxiv = settings.model_copy(update={"sources": ["arxiv:cs.LG"]})
    links = Links("https://p.test/m", "https://p.test/u")
    daily = render_capped(arxiv, Recipient(1, "a@example.org"), [item], links, now=SATURDAY_EVENING)
    assert "No new arXiv papers today: no announcement on Saturdays." in daily.mail.text
    assert "No new arXiv papers today" in daily.mail.html
    weekly = render_capped(arxiv, Recipient(1, "a@example.org", schedule="weekly"), [item], links,
                           now=SATURDAY_EVENING)
    assert "arXiv" not in weekly.mail.text
    no_arxiv = render_capped(settings.model_copy(update={"sources": ["hf:daily"]}), Recipient(1, "a@example.org"),
                             [item], links, now=SATURDAY_EVENING)
    assert "arXiv" not in no_arxiv.mail.text


async def test_service_reports_after_each_arxiv_announcement_job(settings: Settings) -> None:
    from digest.runtime import jobs
    from digest.runtime.metrics import Metrics
    from tests.digest.runtime.test_shutdown import RSS_EMPTY
    from tests.digest.sources.http_server import FixtureServer, Reply

    with FixtureServer() as server, SmtpSink() as smtp:
        server.route("/rss/cs.LG", Reply(body=RSS_EMPTY))
        configured = settings.model_copy(update={
            "arxiv_rss_url": server.url("/rss"), "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
            "smtp_security": "none", "admin_emails": ["ops@example.org"], "sources": ["arxiv:cs.LG"],
        })
        parts = build_parts(configured, migrate=False)
        jobs.install(jobs.JobContext(configured, parts.db, Metrics(parts.db), http=parts.http))
        try:
            await jobs.ingest_job("arxiv:cs.LG")
        finally:
            jobs.install(None)
            await parts.aclose()
        [mail] = smtp.snapshot()
    assert mail.to == "ops@example.org" and "  arxiv:cs.LG: 0 new, 0 updated (empty)" in mail.text
