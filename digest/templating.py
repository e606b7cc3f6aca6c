"""Where the Jinja2 templates live, for every renderer (email digests, Discord digests, web pages).

Installed from a wheel the `templates/` folder is packaged as `digest/templates`; in a source
checkout it is the repository's top-level `templates/`. Callers: digest.email.render, digest.web,
the Discord digest renderer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import digest


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    """The folder holding `email/`, `discord/` and `web/` templates."""
    packaged = Path(digest.__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(digest.__file__).resolve().parent.parent / "templates"
