"""Browser check: Debian's headless chromium renders a real digest at phone (390 px) and desktop (1200 px)
width; the PNGs must not be blank. They are kept in artifacts/screenshots/ (gitignored) for a human look."""

from __future__ import annotations

import asyncio
import shutil
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.core.assembly import Recipient
from digest.email.render import Links, render_capped
from digest.services.items import make_item
from digest.settings import Settings
from storage.models import Paper

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")


def png_facts(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed scanlines) using only zlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, width, height, idat = 8, 0, 0, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    return width, height, len(set(raw))


def sample_html(settings: Settings) -> str:
    papers = [
        Paper(id=n, canonical_id=f"2410.{17000 + n}", title=title, abstract=abstract, authors=authors,
              categories=["cs.LG", "cs.CL"], pdf_url=f"https://arxiv.org/pdf/2410.{17000 + n}",
              published_at=NOW, sources=["hf:daily"], extras={"upvotes": 40 - n, "github_repo": "https://github.com/x/y"})
        for n, (title, abstract, authors) in enumerate([
            ("Scaling <script>alert(1)</script> sparse autoencoders to millions of features",
             "We train sparse autoencoders on a large model. They find interpretable features.",
             ["Ada L.", "Grace H."]),
            ("Video diffusion with long-range memory", "A diffusion model for long videos that keeps scenes coherent.",
             [f"Author {i}" for i in range(14)]),
            ("Interpretability in the wild", "Interpretability methods evaluated on real deployments.", ["Solo A."]),
        ], start=1)
    ]
    items = [
        make_item(settings, paper.id or 0, paper, 1 if n < 2 else 2,
                  '"sparse autoencoder" OR interpretab*' if n < 2 else "diffusion OR ti:video",
                  {"matched_words": ["sparse", "autoencoders", "interpretable", "diffusion", "Interpretability"]},
                  paper.abstract)
        for n, paper in enumerate(papers)
    ]
    links = Links(manage_url="https://paperbell.test/manage/T", unsubscribe_url="https://paperbell.test/unsubscribe/T")
    recipient = Recipient(subscriber_id=1, address="ada@example.org", timezone="Europe/Berlin")
    return render_capped(settings, recipient, items, links, now=NOW).mail.html


@pytest.mark.parametrize("width", [390, 1200])
async def test_digest_renders_in_chromium(width: int, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, secret_key="k" * 32)
    page = tmp_path / "digest.html"
    page.write_text(sample_html(settings), encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"digest-{width}.png"
    shot.unlink(missing_ok=True)
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},2000", f"--screenshot={shot}",
        page.as_uri(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert shot.exists(), stderr.decode(errors="replace")[-2000:]
    png_width, png_height, distinct = png_facts(shot.read_bytes())
    assert (png_width, png_height) == (width, 2000)
    assert distinct > 20, "the screenshot is blank"
