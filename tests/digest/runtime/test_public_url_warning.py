"""`paperbell run` says at start when PAPERBELL_PUBLIC_URL and the address it listens on disagree."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.runtime.address_check import public_url_problem
from digest.settings import Settings
from tests.digest.runtime.procs import Service, service_env, wait_for


@pytest.mark.parametrize(("public_url", "host", "port", "expected"), [
    ("http://localhost:8080", "127.0.0.1", 8080, None),  # the defaults agree: both are this machine
    ("http://127.0.0.1:8080", "127.0.0.1", 8080, None),
    ("https://papers.lab.example", "127.0.0.1", 8080, None),  # a reverse proxy in front: not ours to judge
    ("http://localhost:8080", "127.0.0.1", 8081, "set PAPERBELL_PUBLIC_URL=http://127.0.0.1:8081"),
    ("http://localhost:8080", "0.0.0.0", 8080, "which only works on this machine"),
    ("localhost:8080", "127.0.0.1", 8080, "is not an http(s) URL"),
])
def test_disagreements_are_named_with_what_to_set(
    settings: Settings, public_url: str, host: str, port: int, expected: str | None
) -> None:
    problem = public_url_problem(settings.model_copy(update={"public_url": public_url, "web_host": host}), port)
    assert problem == expected if expected is None else expected in (problem or "")


def test_paperbell_run_warns_at_start(database_url: str, tmp_path: Path) -> None:
    # the real entry point, listening on a free port while the public URL keeps its default port 8080
    env = service_env(database_url, tmp_path / "data", PAPERBELL_PUBLIC_URL="http://localhost:8080")
    service = Service.start(env, tmp_path / "run.log", "web")
    try:
        port = service.web_port()
        line = wait_for(lambda: [x for x in service.text().splitlines() if "PAPERBELL_PUBLIC_URL is" in x], 30,
                        "the public URL warning")[0]
        assert "WARNING" in line and f"set PAPERBELL_PUBLIC_URL=http://127.0.0.1:{port}" in line
    finally:
        service.stop_quietly()
