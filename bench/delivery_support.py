"""What bench/delivery.py measures with: the two local servers it delivers to, each in a child process
(their CPU and memory are not the sender's): aiosmtpd, and the Discord double with Discord's global limit
and per-route buckets, each remembering when every recipient's last message was accepted (monotonic
clock, system-wide); and the per-step CPU meter of an e-mail worker (`instrument`)."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from typing import Any

CHANNELS_PER_GUILD = 400  # Discord's cap is 500 channels per guild


def smtp_server(ready: Any, done: Any, stop: Any) -> None:
    """aiosmtpd; remembers when each recipient's last message was accepted (monotonic, system-wide)."""
    from aiosmtpd.smtp import SMTP

    accepted: dict[str, float] = {}

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            now = time.monotonic()
            for rcpt in envelope.rcpt_tos:
                accepted[rcpt] = now
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Handler(), hostname="bench"), "127.0.0.1", 0)
        ready.put(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, stop.wait)
        server.close()
        done.put(accepted)

    asyncio.run(main())


def discord_server(users: int, channels: int, ready: Any, done: Any, stop: Any) -> None:
    """The Discord double with Discord's global limit and per-route buckets (5 per 0.25 s, as bench/discord.py)."""
    from tests.bot.discord_double import DiscordDouble
    from tests.bot.discord_double.rules import GlobalLimit

    async def main() -> None:
        double = await DiscordDouble().start()
        double.message_bucket = (5, 0.25)
        double.route_buckets.update(threads=(5, 0.25), webhooks=(5, 0.25), dm=(5, 0.25))
        double.global_limit = GlobalLimit(50)
        user_ids = [double.add_user(f"reader{i}") for i in range(users)]
        channel_ids: list[str] = []
        for start in range(0, channels, CHANNELS_PER_GUILD):
            guild = double.add_guild(f"bench-{start}")
            channel_ids += [double.add_channel(guild, f"feed-{i}")
                            for i in range(start, min(channels, start + CHANNELS_PER_GUILD))]
        ready.put({"api_base": double.api_base, "token": double.token, "users": user_ids, "channels": channel_ids})
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        last: dict[str, float] = {}
        dm_owner = {cid: c["recipients"][0]["id"] for cid, c in double.dm_channels.items()}
        for r in double.requests:
            if r.method == "POST" and r.status == 200 and r.path.endswith("/messages"):
                cid = r.path.split("/")[-2]
                last[dm_owner.get(cid, cid)] = r.at
        done.put({"last": last, "http_429": double.rate_limited, "global_429": double.global_429s,
                  "invalid_requests": double.invalid_requests})
        await double.close()

    asyncio.run(main())


class Server:
    """A child-process server: start, read what it announced, stop and collect what it recorded."""

    def __init__(self, target: Any, *args: Any) -> None:
        self.ready: Any = multiprocessing.Queue()
        self.done: Any = multiprocessing.Queue()
        self.stop_event = multiprocessing.Event()
        self.process = multiprocessing.Process(target=target, args=(*args, self.ready, self.done, self.stop_event),
                                               daemon=True)
        self.process.start()
        self.info = self.ready.get(timeout=120)

    def stop(self) -> Any:
        self.stop_event.set()
        value = self.done.get(timeout=120)
        self.process.join(timeout=30)
        return value


# --- CPU split: each step's thread CPU, summed (the steps run in worker threads via Database.run) --------
STEPS = {  # step -> (module, attribute) wrapped in the measured worker process; nested steps count once
    "claim_expand": [("digest.email.digests", "claim_due_batch"), ("digest.email.digests", "unclaimed_facts"),
                     ("digest.services.outbox", "claim"), ("digest.services.outbox", "claim_many")],
    "load": [("digest.services.items", "_papers_and_queries"), ("digest.services.items", "_still_wanted"),
             ("digest.services.items", "papers_and_queries_many")],
    "items": [("digest.services.items", "_make_items"), ("digest.summaries", "_local_summaries")],
    "batch_reads": [("digest.email.batch", "_reads")],
    "render": [("digest.email.building", "render_blocking"), ("digest.email.digests", "_render_blocking")],
    "build_message": [("digest.email.building", "build_message")],
    "wire_bytes": [("digest.email.send", "outgoing_bytes")],
    "ledger": [("digest.email.digests", "mark_sent_durably"), ("digest.email.digests", "record_digests_sent"),
               ("digest.email.digests", "through_outage"), ("digest.email.digests", "unclaim_held_back"),
               ("digest.services.sent_batches", "write_sent")],
}


def instrument() -> dict[str, float]:
    """Wrap each step's blocking function to add its thread CPU time; returns the running totals."""
    import functools
    import importlib
    import threading

    totals = dict.fromkeys(STEPS, 0.0)
    guard = threading.Lock()
    inside = threading.local()  # a step called by another step is the outer step's time
    for step, targets in STEPS.items():
        for module_name, attribute in targets:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            original = getattr(module, attribute, None)
            if original is None or asyncio.iscoroutinefunction(original):
                continue

            def timed(*args: Any, _original: Any = original, _step: str = step, **kwargs: Any) -> Any:
                if getattr(inside, "step", None):
                    return _original(*args, **kwargs)
                inside.step, started = _step, time.thread_time()
                try:
                    return _original(*args, **kwargs)
                finally:
                    inside.step = None
                    with guard:
                        totals[_step] += time.thread_time() - started

            setattr(module, attribute, functools.wraps(original)(timed))
    return totals
