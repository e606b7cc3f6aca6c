"""`paperbell status` finds `paperbell run` processes through their database heartbeat, whatever roles they run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from digest.runtime.state import running_processes, write_role_beat
from storage.db import Database
from tests.digest.runtime.procs import REPO, Service, service_env, wait_for


def status(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest.cli.main", "status"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_status_sees_web_and_worker_without_a_scheduler(database_url: str, tmp_path: Path, db: Database) -> None:
    env = service_env(database_url, tmp_path / "data")
    service = Service.start(env, tmp_path / "run.log", "web", "worker")
    try:
        service.web_port()
        wait_for(lambda: running_processes(db, 0.5), 30, "the role heartbeat row")
        done = status(env)
    finally:
        assert service.terminate() == 0
    assert "service (`paperbell run`): running without a scheduler" in done.stdout, done.stdout
    assert "worker, web (heartbeat" in done.stdout, done.stdout
    assert "without the scheduler role" in done.stdout and "not running" not in done.stdout
    assert running_processes(db, 0.5) == []  # a clean shutdown removes the row at once
    assert "running without a scheduler" not in status(env).stdout


def test_status_says_not_running_right_after_a_clean_stop(database_url: str, tmp_path: Path, db: Database) -> None:
    env = service_env(database_url, tmp_path / "data")
    service = Service.start(env, tmp_path / "run.log", "scheduler", "web")
    try:
        service.web_port()
        wait_for(lambda: "running (scheduler pid" in status(env).stdout, 30, "the scheduler heartbeat")
    finally:
        assert service.terminate() == 0
    after = status(env).stdout  # at once, not after the heartbeat ages out
    assert f"not running (last heartbeat from pid {service.proc.pid}" in after, after


def test_a_stale_heartbeat_is_not_a_running_process(db: Database) -> None:
    from datetime import timedelta

    from storage.types import utcnow

    write_role_beat(db, {"web"}, now=utcnow() - timedelta(minutes=5))
    assert running_processes(db, 0.5) == []
    write_role_beat(db, {"web", "bot"})
    assert [p["roles"] for p in running_processes(db, 0.5)] == [["web", "bot"]]
