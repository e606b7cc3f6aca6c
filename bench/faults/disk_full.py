"""Fault case: the disk fills under SQLite: what the operator sees, and the digest periods a failed match uses up.

Run (root: it mounts a tmpfs): `python bench/faults/disk_full.py --paperbell /work/wt/faults-old/.venv/bin/paperbell`
The SQLite file lives on a 6 MB tmpfs mounted for the run (`mount -t tmpfs -o size=6m`); mail goes to a
local aiosmtpd server. Setup: `db upgrade`, `--subscribers` (10) confirmed daily subscribers at hour 0 with
one subscription each (`language model`), made due by moving `created_at` two days back (sqlite3), and the
first 200 seed papers ingested and not yet matched. Then the disk is filled (a file written until ENOSPC) and:
  ingest_full   `paperbell ingest file:<the other 193 seed papers>`: exit status, output lines, traceback
                lines, the `FAILED`/`error:` line
  once_full     `paperbell run --once --json` (no sources: match and deliver only): the same, plus mails
                received and the subscribers whose digest period was used up (`last_digest_at` set)
  once_freed    the filler deleted, `paperbell run --once --json` again: mails received (the papers of the
                failed match go out now, or wait for tomorrow's period)
Prints ONE JSON line.
"""

from __future__ import annotations

import errno
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from common import SmtpSink, base_env, emit, fresh_dir, measure, parser

SEED = Path(__file__).resolve().parents[2] / "digest" / "data" / "seed_papers.jsonl"  # bundled with the package


def _fill(disk: Path, slack: int) -> Path:
    """Write a filler file until ENOSPC, then give back `slack` bytes (room for small writes only)."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            for _ in range(10_000):
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    if slack:
        size = filler.stat().st_size
        with filler.open("r+b") as handle:
            handle.truncate(max(0, size - slack))
    return filler


def _summary(got: dict[str, Any]) -> dict[str, Any]:
    lines = got["output"].splitlines()
    failed = [line for line in lines if line.startswith(("FAILED", "error:"))]
    tb_lines, inside = 0, False
    for line in lines:  # a traceback: its header, the indented frames, and the exception line that ends it
        if line.startswith("Traceback"):
            inside = True
        if inside:
            tb_lines += 1
            inside = line.startswith(("Traceback", " ", "During handling", "The above exception")) or not line
    return {"rc": got["rc"], "output_lines": len([line for line in lines if line.strip()]),
            "traceback_lines": tb_lines, "tracebacks": got["output"].count("Traceback"),
            "failed_line": (failed[0] if failed else got["reason"])[:160],
            "stages_failed": [line.split("stage failed")[0].split()[-1] for line in lines if "stage failed" in line]
            or [line.split(":")[0].removeprefix("FAILED ") for line in failed]}


def _slots_used(db_file: Path) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM subscribers WHERE last_digest_at IS NOT NULL").fetchone()[0])


def main() -> None:
    args = parser(__doc__)
    args.add_argument("--subscribers", type=int, default=10)
    args.add_argument("--seed", default=str(SEED))
    args.add_argument("--slack-kb", type=int, default=0, help="free this much after filling the disk")
    opts = args.parse_args()
    work = fresh_dir("diskfull")
    disk = work / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)], check=True)
    results: dict[str, Any] = {}
    try:
        seed = Path(opts.seed).read_text().splitlines()
        (work / "first.jsonl").write_text("\n".join(seed[:200]) + "\n")
        (work / "rest.jsonl").write_text("\n".join(seed[200:]) + "\n")
        db_file = disk / "paperbell.db"
        with SmtpSink() as sink:
            env = base_env(work / "data", f"sqlite:///{db_file}", PAPERBELL_SOURCES="", **sink.env())
            pb = opts.paperbell
            measure([pb, "db", "upgrade"], env, 120)
            for n in range(opts.subscribers):
                address = f"reader{n}@example.org"
                measure([pb, "subscribers", "add", address, "--confirmed", "--schedule", "daily", "--hour", "0",
                         "--timezone", "UTC"], env, 120)
                measure([pb, "subscriptions", "add", address, "language model"], env, 120)
            with sqlite3.connect(db_file) as conn:
                conn.execute("UPDATE subscribers SET created_at = datetime('now', '-2 days')")
            results["setup_ingest_rc"] = measure([pb, "ingest", f"file:{work / 'first.jsonl'}"], env, 180)["rc"]
            filler = _fill(disk, opts.slack_kb * 1024)
            results["ingest_full"] = _summary(measure([pb, "ingest", f"file:{work / 'rest.jsonl'}"], env, 180))
            once = measure([pb, "run", "--once", "--json"], env, 300)
            time.sleep(1)
            results["once_full"] = {**_summary(once), "mails": len(sink.messages), "slots_used": _slots_used(db_file)}
            filler.unlink()
            sent = len(sink.messages)
            freed = measure([pb, "run", "--once", "--json"], env, 300)
            time.sleep(1)
            results["once_freed"] = {"rc": freed["rc"], "mails": len(sink.messages) - sent,
                                     "subscribers": opts.subscribers}
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
    emit("disk_full", opts.paperbell, results)


if __name__ == "__main__":
    main()
