"""Regenerate the screenshots of the README and the documentation from a real demo run.

    python docs/screenshots.py

Runs `paperbell demo` into a throw-away data directory (the bundled sample papers, no network),
opens one of its e-mail digests in Debian's Chromium, serves the web front on those papers with
`paperbell run --role web` and photographs its day page; writes docs/assets/screenshots/*.png.
Needs the `test` extra (Playwright) and `/usr/bin/chromium` (`apt-get install -y chromium`);
Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "assets" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PAPERBELL = [sys.executable, "-m", "digest.cli.main"]
WIDTH, HEIGHT = 1200, 900


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: the web app exited with status {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=60):  # the first day page renders every TL;DR
                return
        except OSError:  # refused or reset while it starts (URLError is an OSError)
            time.sleep(0.5)  # a starting server: poll until it answers or the deadline passes
    raise SystemExit(f"error: the web app did not answer {url} within {timeout:.0f} s")


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} not found: install it with `apt-get install -y chromium`", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        port = _free_port()
        env = {**os.environ, "PAPERBELL_DATA_DIR": data_dir, "PAPERBELL_WEB_PORT": str(port),
               "PAPERBELL_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        env.pop("PAPERBELL_DATABASE_URL", None)
        subprocess.run([*PAPERBELL, "demo"], env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        digest = sorted((Path(data_dir) / "outbox" / "email").glob("*.html"), key=lambda p: p.stat().st_size)[-1]
        server = subprocess.Popen([*PAPERBELL, "run", "--role", "web"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(f"http://127.0.0.1:{port}/", server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                page.goto(digest.as_uri())
                page.screenshot(path=str(OUT / "digest-1200.png"))
                page.goto(f"http://127.0.0.1:{port}/")
                page.screenshot(path=str(OUT / "front-day-1200.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    for name in ("digest-1200.png", "front-day-1200.png"):
        print(f"wrote {(OUT / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
