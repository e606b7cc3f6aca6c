"""Fault case: subscription bombing and duplicate confirmations (form, CLI and worker together).

Run: `python bench/faults/subscribe_bombing.py --paperbell /work/wt/faults-old/.venv/bin/paperbell`.
Starts a local aiosmtpd server (the mailboxes: every message it accepts is counted, so a mail sent twice
is seen twice) and `paperbell run --role web --role worker` sending to it (fresh SQLite data dir or
`--database-url`), then:
  plus_tags     50 form posts `victim+1…+50@example.org` from 10 client addresses (127.0.0.2-11, 5 each,
                in parallel): confirmation mails that reach the victim's mailbox
  distinct      50 form posts of 50 different addresses from 10 other client addresses: mails written,
                addresses mailed twice or more, Message-IDs seen twice
  same_address  5 parallel posts of one new address from 5 more client addresses: mails to it, and
                `UNIQUE constraint failed` / tracebacks in the service log
  cli_add       `--cli` (10) × `paperbell subscribers add cliN@example.org` while the worker runs:
                confirmation mails per address
Counts are read after the SMTP server has received nothing for 5 s. Prints ONE JSON line.
"""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import Service, SmtpSink, base_env, emit, form_post, fresh_dir, measure, parser, wait_for


def _form(address: str) -> dict[str, str]:
    return {"email": address, "query": "diffusion", "schedule": "daily", "hour": "8", "weekday": "0",
            "timezone": "UTC"}


def _post_all(url: str, addresses: list[str], first_ip: int, per_ip: int) -> collections.Counter[int]:
    """Post each address from 127.0.0.<first_ip + i // per_ip>, one thread per client address."""
    batches = [addresses[i:i + per_ip] for i in range(0, len(addresses), per_ip)]

    def client(index: int) -> list[int]:
        ip = f"127.0.0.{first_ip + index}"
        return [form_post(url, "/subscribe", _form(address), source_ip=ip)[0] for address in batches[index]]

    with ThreadPoolExecutor(len(batches)) as pool:
        statuses = [status for batch in pool.map(client, range(len(batches))) for status in batch]
    return collections.Counter(statuses)


def _settled(sink: SmtpSink) -> list[Any]:
    """Wait until the SMTP server has received nothing for 5 s (at most 120 s); what it received."""
    seen = [-1]

    def still() -> bool:
        count = len(sink.messages)
        same = count == seen[0]
        seen[0] = count
        return same

    wait_for(still, 120, step=5)
    return list(sink.messages)


def _count(mails: list[Any], match: Any) -> dict[str, int]:
    picked = [mail for mail in mails if match(str(mail["X-Envelope-To"]))]
    per_address = collections.Counter(str(mail["X-Envelope-To"]) for mail in picked)
    per_id = collections.Counter(str(mail["Message-ID"]) for mail in picked)
    return {"mails": len(picked), "addresses": len(per_address),
            "addresses_mailed_twice": sum(1 for n in per_address.values() if n > 1),
            "message_ids_seen_twice": sum(1 for n in per_id.values() if n > 1)}


def main() -> None:
    args = parser(__doc__)
    args.add_argument("--cli", type=int, default=10)
    args.add_argument("--poll", default="0.5", help="PAPERBELL_SENDER_POLL_SECONDS: a busy worker, as in production")
    opts = args.parse_args()
    work = fresh_dir("bombing")
    sink = SmtpSink()
    env = base_env(work / "data", opts.database_url, PAPERBELL_SENDER_POLL_SECONDS=opts.poll, **sink.env())
    results: dict[str, Any] = {}
    with sink, Service(opts.paperbell, env, ["web", "worker"], work / "svc.log") as svc:
        statuses = _post_all(svc.url, [f"victim+{n}@example.org" for n in range(1, 51)], 2, 5)
        statuses += _post_all(svc.url, [f"user{n}@example.org" for n in range(1, 51)], 12, 5)
        statuses += _post_all(svc.url, ["same@example.org"] * 5, 22, 1)
        results["form_statuses"] = dict(statuses)
        for n in range(opts.cli):
            measure([opts.paperbell, "subscribers", "add", f"cli{n}@example.org"], env, 120)
        mails = _settled(sink)
    results["plus_tags"] = _count(mails, lambda to: to.startswith("victim+"))
    results["distinct"] = _count(mails, lambda to: to.startswith("user"))
    results["same_address"] = _count(mails, lambda to: to == "same@example.org")
    results["cli_add"] = _count(mails, lambda to: to.startswith("cli"))
    log = (work / "svc.log").read_text(errors="replace")
    results["log_unique_failed"] = log.count("UNIQUE constraint failed") + log.count("UniqueViolation")
    results["log_tracebacks"] = log.count("Traceback")
    emit("subscribe_bombing", opts.paperbell, results)


if __name__ == "__main__":
    main()
