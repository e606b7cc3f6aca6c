"""Fault case: local reads that must be bounded: `ingest file:/dev/zero`, a FIFO, a .bib symlink to /dev/zero.

Run: `python bench/faults/bounded_reads.py --paperbell /work/wt/faults-old/.venv/bin/paperbell`.
Each command runs on a fresh SQLite data dir (or `--database-url`) under an address-space limit
(`--mem-mb`, 2 GB) and a timeout (`--timeout`, 60 s) so a run that reads forever cannot take the machine
down. Reported per command: exit status, timed out?, seconds, CPU seconds, peak RSS, bytes the process
read (rchar, polled), whether a traceback was printed and the last line. Prints ONE JSON line.
"""

from __future__ import annotations

import os

from common import base_env, emit, fresh_dir, measure, parser

STRIP = ("output", "last")  # `last` is often a table border; `reason` has the line that matters


def main() -> None:
    args = parser(__doc__)
    args.add_argument("--mem-mb", type=int, default=2048)
    args.add_argument("--timeout", type=float, default=60.0)
    opts = args.parse_args()
    work = fresh_dir("bounded")
    env = base_env(work / "data", opts.database_url)
    fifo = work / "feed.fifo"
    os.mkfifo(fifo)
    bib = work / "library.bib"
    bib.symlink_to("/dev/zero")
    setup = measure([opts.paperbell, "subscribers", "add", "a@example.org", "--confirmed"], env, 120)
    cases = {
        "ingest_dev_zero": [opts.paperbell, "ingest", "file:/dev/zero"],
        "ingest_fifo": [opts.paperbell, "ingest", f"file:{fifo}"],
        "library_bib_symlink": [opts.paperbell, "subscriptions", "add", "a@example.org", "--library", str(bib),
                                "--preview"],
    }
    results: dict[str, object] = {"setup_rc": setup["rc"]}
    for name, cmd in cases.items():
        got = measure(cmd, env, opts.timeout, opts.mem_mb * 1024 * 1024)
        results[name] = {key: value for key, value in got.items() if key not in STRIP}
    emit("bounded_reads", opts.paperbell, results)


if __name__ == "__main__":
    main()
