"""Fault case: does the public port name a subscriber after a one-click unsubscribe?

Run: `python bench/faults/healthz_privacy.py --paperbell /work/wt/faults-old/.venv/bin/paperbell`.
Starts `paperbell run --role web --role worker` (fresh SQLite data dir or `--database-url`, file outbox),
subscribes `victim@example.org` through the form, takes the http List-Unsubscribe URL of the
confirmation mail and POSTs the RFC 8058 one-click body to it, then reads /healthz, /metrics and
/ops/status without credentials. Reported: each status, whether the address (or any `@`) appears,
and the keys of /healthz. Prints ONE JSON line.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.parse
from typing import Any

from common import Service, base_env, emit, form_post, fresh_dir, get, outbox_mails, parser, wait_for

ADDRESS = "victim@example.org"
FORM = {"email": ADDRESS, "query": "diffusion", "schedule": "daily", "hour": "8", "weekday": "0", "timezone": "UTC"}


def main() -> None:
    opts = parser(__doc__).parse_args()
    work = fresh_dir("healthz")
    data = work / "data"
    results: dict[str, Any] = {}
    with Service(opts.paperbell, base_env(data, opts.database_url), ["web", "worker"], work / "svc.log") as svc:
        results["subscribe_status"] = form_post(svc.url, "/subscribe", FORM)[0]
        wait_for(lambda: outbox_mails(data), 60)
        mails = outbox_mails(data)
        header = str(mails[0].get("List-Unsubscribe", "")) if mails else ""
        found = re.search(r"<(https?://[^>]+)>", header)
        if found:
            path = urllib.parse.urlsplit(found.group(1)).path
            results["unsubscribe_status"] = form_post(svc.url, path, {"List-Unsubscribe": "One-Click"})[0]
        for route in ("/healthz", "/metrics", "/ops/status"):
            status, body = get(svc.url + route)
            key = route.strip("/").replace("/", "_")
            results[key] = {"status": status, "names_victim": ADDRESS in body, "any_at_sign": "@" in body,
                            "bytes": len(body)}
            if route == "/healthz":
                with contextlib.suppress(ValueError):
                    results[key]["keys"] = sorted(json.loads(body))
    emit("healthz_privacy", opts.paperbell, results)


if __name__ == "__main__":
    main()
