"""Logging set-up for `paperbell run`: plain or JSON lines, and the one-line-per-job-run record.

Called once by `digest.runtime.app`; jobs and senders call `log_job` with their counts.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

JOB_LOGGER = logging.getLogger("paperbell.jobs")
_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class OneLineFormatter(logging.Formatter):
    """Plain lines whose message cannot forge another: CR, LF and other control characters in it (e.g. a URL
    from a request) are escaped. A traceback, logged as exception info, keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def escape_controls(text: str) -> str:
    """`a\nb` → `a\\nb`: control characters shown as escapes, tabs kept."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\t" else ascii(ch)[1:-1] for ch in text)


def setup_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    """Replace the root handlers with one stderr handler (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs every run at INFO; our own job line says it better
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # Alembic is imported only when a migration may run, after this setup: its plugin chatter stays out
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))


def log_job(job: str, status: str, duration: float, level: int = logging.INFO, **counts: Any) -> None:
    """The one line per job run: `job=ingest:hf:daily status=ok duration=0.42s fetched=50 new=3`."""
    shown = " ".join(f"{key}={value}" for key, value in counts.items())
    JOB_LOGGER.log(
        level,
        "job=%s status=%s duration=%.2fs %s",
        job,
        status,
        duration,
        shown,
        extra={"job": job, "status": status, "duration": round(duration, 3), **counts},
    )
