"""A paper's thumbnail for the web pages: only a source's own image host, only over https.

Hugging Face's daily papers carry a social thumbnail (stored by digest.sources.hf_daily in
`extras["thumbnail"]`). The web pages show it only when the operator sets
PAPERBELL_WEB_EXTERNAL_IMAGES (the reader's browser then asks that host for it), and the pages'
Content-Security-Policy then allows images from `IMAGE_HOSTS` and nowhere else.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from digest.core.links import html_href
from storage.models import Paper

IMAGE_HOSTS = ("cdn-thumbnails.huggingface.co",)


def thumbnail_of(paper: Paper | None) -> str | None:
    """The paper's thumbnail URL when it is https on an allowed host (through the one URL gate), else None."""
    if paper is None or not isinstance(paper.extras, dict):
        return None
    url = html_href(paper.extras.get("thumbnail"))
    if url is None:
        return None
    parts = urlsplit(url)
    return url if parts.scheme == "https" and parts.hostname in IMAGE_HOSTS and not parts.port else None


def image_sources() -> str:
    return " ".join(f"https://{host}" for host in IMAGE_HOSTS)
