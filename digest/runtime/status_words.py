"""`paperbell status` in plain words: what runs, what is due, what failed and why, what to do next.

Pure: takes the facts of `digest.runtime.state.snapshot` (plain dicts) and the configured sources,
returns lines of text and the list of advice (also part of `status --json`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def ago(seconds: float | None) -> str:
    """'12 s ago', '5 min ago', '3 h ago', '2 days ago'; 'never' for None."""
    if seconds is None:
        return "never"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _until(when: str | None, now: datetime) -> str:
    if when is None:
        return "paused"
    seconds = (datetime.fromisoformat(when) - now).total_seconds()
    if seconds <= 60:
        return "now"
    if seconds < 90 * 60:
        return f"in {seconds / 60:.0f} min"
    return f"in {seconds / 3600:.1f} h"


def advice(facts: dict[str, Any], configured: list[str]) -> list[str]:
    """What to do next, most urgent first; empty when nothing needs doing."""
    todo: list[str] = []
    database = facts.get("database", {})
    if not database.get("ok"):
        return [f"the database does not answer ({database.get('error')}): check PAPERBELL_DATABASE_URL"]
    scheduler, once = facts.get("scheduler", {}), facts.get("one_shot", {})
    if not scheduler.get("alive") and not once.get("fresh"):
        if scheduler.get("leader_pid") is None and once.get("last_cycle_at") is None:
            todo.append("no service heartbeat: start `paperbell run`, or use `paperbell run --once` from cron")
        else:
            todo.append("nothing has run recently (service heartbeat or one-shot cycle): is `paperbell run` "
                        "still up, or the cron/timer that runs `paperbell run --once`?")
    if not configured:
        todo.append("no sources configured: set PAPERBELL_SOURCES (e.g. arxiv:cs.LG,hf:daily)")
    seen = {row["source"] for row in facts.get("sources", [])}
    never = [spec for spec in configured if spec not in seen]
    if never:
        todo.append(f"{len(never)} configured source(s) never fetched: `paperbell ingest` fetches them now")
    for row in facts.get("sources", []):
        if row.get("status") == "error" and row["source"] in configured:
            todo.append(f"source {row['source']} failed ({row.get('error')}): fix it, then "
                        f"`paperbell ingest {row['source']}` retries it now")
    for _, chat in sorted(facts.get("chat", {}).items()):
        if chat.get("missing_setting") and chat.get("pending"):
            todo.append(f"{chat['label']}: {chat['pending']} papers wait because {chat['missing_setting']} is "
                        "not set: set it and restart `paperbell run`")
        for row in chat.get("paused_list", []):
            todo.append(f"{chat['label']} target #{row['id']} is paused ({row['reason']}): fix it there, then "
                        f"`paperbell subscribers resume {row['id']}`")
    failed = facts.get("outbox", {}).get("by_status", {}).get("failed", 0)
    if failed:
        todo.append(f"{failed} deliveries failed for good: `paperbell subscribers list` shows paused subscribers")
    return todo


def describe(facts: dict[str, Any], configured: list[str], healthy: bool, now: datetime) -> list[str]:
    """The whole status as lines of plain text."""
    database = facts.get("database", {})
    lines = [f"paperbell: {'healthy' if healthy else 'NEEDS ATTENTION'}"]
    lines.append(f"database: {database.get('backend')} — {'answers' if database.get('ok') else database.get('error')}")
    if database.get("ok"):
        lines += _running(facts) + _sources(facts, configured) + _due(facts, now) + _chat(facts)
    todo = advice(facts, configured)
    lines.append("what to do next:" if todo else "what to do next: nothing, all is well")
    lines += [f"  - {item}" for item in todo]
    return lines


def _running(facts: dict[str, Any]) -> list[str]:
    scheduler, once = facts.get("scheduler", {}), facts.get("one_shot", {})
    beat = ago(scheduler.get("heartbeat_age_seconds"))
    if scheduler.get("alive"):
        service = f"running (scheduler pid {scheduler['leader_pid']}, heartbeat {beat})"
    elif scheduler.get("leader_pid") is not None:
        service = f"not running (last heartbeat from pid {scheduler['leader_pid']} {beat})"
    else:
        service = "not running (no service heartbeat yet)"
    if once.get("last_cycle_at"):
        cycle = f"last cycle {ago(once['age_seconds'])}, {'ok' if once['ok'] else 'with failures'}"
    else:
        cycle = "never run"
    return [f"service (`paperbell run`): {service}", f"one-shot (`paperbell run --once`): {cycle}"]


def _sources(facts: dict[str, Any], configured: list[str]) -> list[str]:
    rows = {row["source"]: row for row in facts.get("sources", [])}
    specs = list(configured) + sorted(set(rows) - set(configured))
    lines = ["sources:" if specs else "sources: none configured"]
    for spec in specs:
        row = rows.get(spec)
        if row is None:
            lines.append(f"  {spec}: never fetched")
            continue
        counts = row.get("counts") or {}
        what = f"{counts.get('new', 0)} new" if row["status"] != "error" else f"error: {row.get('error')}"
        extra = "" if spec in configured else " (not in PAPERBELL_SOURCES: fetched by hand or by the demo)"
        lines.append(f"  {spec}: {row['status']} at {str(row['last_run_at'])[:16].replace('T', ' ')} UTC"
                     f" ({what}){extra}")
    return lines


def _due(facts: dict[str, Any], now: datetime) -> list[str]:
    box = facts.get("outbox", {})
    pending = box.get("pending", {})
    total = sum(pending.values())
    if total:
        kinds = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in sorted(pending.items()))
        lines = [f"due: {total} deliveries waiting ({kinds}); oldest {ago(box.get('oldest_pending_seconds'))}"]
    else:
        lines = ["due: nothing waiting to be delivered"]
    runs = facts.get("scheduler", {}).get("next_runs", {})
    if runs:
        lines.append("next runs: " + "; ".join(f"{job} {_until(when, now)}" for job, when in runs.items()))
    return lines


def _chat(facts: dict[str, Any]) -> list[str]:
    """One line per chat channel that has targets: how many, paused, backing off, waiting, configured."""
    lines = []
    for kind, chat in sorted(facts.get("chat", {}).items()):
        state = f"not posting: {chat['missing_setting']} is not set" if chat.get("missing_setting") else "posting"
        lines.append(f"{chat['label']} ({kind}): {state}; {chat['targets']} target(s), {chat['paused']} paused, "
                     f"{chat['backing_off']} backing off, {chat['pending']} papers waiting")
        lines += [f"  backing off #{row['id']} until {row['retry_at'][:16]}: {row['error']}"
                  for row in chat.get("failing_list", [])]
    return lines
