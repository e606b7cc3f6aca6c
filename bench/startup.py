"""Benchmark: how long a user waits for `paperbell` commands and for `paperbell run` to answer /healthz.

Run: `.venv/bin/python bench/startup.py [--runs 3] [--source DIR] [--paperbell PATH]`.
Every measurement spawns the real console script (`paperbell`, next to this Python) on a fresh
SQLite data directory, as a user would, and is repeated `--runs` times (min and median reported):
  help                 `paperbell --help`
  status               `paperbell status` (creates the schema on the first run of the fresh database)
  subscriptions_list   `paperbell subscriptions list` (one subscriber with two subscriptions stored)
  config_show          `paperbell config show`
  run_web_worker       `paperbell run --role web --role worker`, from spawn until /healthz answers
                       (503 by design: no scheduler runs anywhere, so the service is not healthy)
  run_healthy          `paperbell run --role scheduler --role web --role worker`, from spawn until
                       /healthz answers 200 (the leader has written its first heartbeat)
Wall time is what the user waits for; on a shared machine it mostly measures the neighbours, so the
child's CPU time (user+sys, up to the answer for the service) is reported beside it.
`--source DIR` runs the code of another checkout (e.g. the base commit from `git archive`) through
the same console script: DIR is put first on PYTHONPATH, ahead of the editable install.
Prints ONE JSON line.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder is sys.path[0] and bench/email.py would shadow the stdlib `email` package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import json
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "help": ["--help"],
    "status": ["status"],
    "subscriptions_list": ["subscriptions", "list"],
    "config_show": ["config", "show"],
}
SERVICES = {
    "run_web_worker": (["--role", "web", "--role", "worker"], None),
    "run_healthy": (["--role", "scheduler", "--role", "web", "--role", "worker"], 200),
}
HEALTH_DEADLINE = 120.0  # seconds; a service that has not answered by then is reported as failed
TICKS = os.sysconf("SC_CLK_TCK")


def _env(data_dir: Path, source: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBELL_")}
    env.update(PAPERBELL_DATA_DIR=str(data_dir), PAPERBELL_LOG_LEVEL="WARNING", COLUMNS="100", **extra)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    return env


def _command(paperbell: str, args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, exit code) of one command from spawn to exit."""
    started = time.perf_counter()
    child = subprocess.Popen([paperbell, *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, child.returncode


def _cpu_seconds(pid: int) -> float:
    """user+sys of a running process (all its threads) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health_status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def _service(paperbell: str, roles: list[str], want: int | None, env: dict[str, str],
             cwd: Path) -> tuple[float, float, int | None]:
    """(wall seconds, child CPU seconds, status) from spawn until /healthz answers (`want`, or anything)."""
    port = _free_port()
    env = {**env, "PAPERBELL_WEB_PORT": str(port), "PAPERBELL_WEB_HOST": "127.0.0.1"}
    started = time.perf_counter()
    child = subprocess.Popen([paperbell, "run", *roles], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        status: int | None = None
        while time.perf_counter() - started < HEALTH_DEADLINE and child.poll() is None:
            status = _health_status(port)
            if status is not None and (want is None or status == want):
                return time.perf_counter() - started, _cpu_seconds(child.pid), status
            time.sleep(0.02)
        return float("nan"), float("nan"), status
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _seed(paperbell: str, env: dict[str, str], cwd: Path) -> None:
    """One subscriber with two subscriptions, so `subscriptions list` has rows to print."""
    for args in (["subscribers", "add", "reader@example.org"],
                 ["subscriptions", "add", "reader@example.org", '"sparse autoencoder" OR interpretab*'],
                 ["subscriptions", "add", "reader@example.org", "cat:cs.CL AND reasoning"]):
        subprocess.run([paperbell, *args], env=env, cwd=cwd, check=True, capture_output=True)


def _summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls = [w for w, _ in samples]
    cpus = [c for _, c in samples]
    return {"wall_min_s": round(min(walls), 3), "wall_median_s": round(statistics.median(walls), 3),
            "cpu_min_s": round(min(cpus), 3), "cpu_median_s": round(statistics.median(cpus), 3)}


def measure(paperbell: str, source: Path | None, runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="paperbell-startup-") as tmp:
        cwd = Path(tmp)  # no stray .env from the repository is read
        data = cwd / "data"
        env = _env(data, source)
        _command(paperbell, ["status"], env, cwd)  # first start creates the schema; not what is measured
        _seed(paperbell, env, cwd)
        for name, args in COMMANDS.items():
            samples = []
            for _ in range(runs):
                wall, cpu, code = _command(paperbell, args, env, cwd)
                samples.append((wall, cpu))
            result[name] = {**_summary(samples), "exit_code": code}
        for name, (roles, want) in SERVICES.items():
            samples, statuses = [], []
            for run in range(runs):
                fresh = cwd / f"{name}-{run}"  # a fresh SQLite data directory every start
                wall, cpu, status = _service(paperbell, roles, want, _env(fresh, source), cwd)
                samples.append((wall, cpu))
                statuses.append(status)
            result[name] = {**_summary(samples), "healthz_status": statuses}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, default=None,
                        help="a checkout whose code the console script runs (default: this one)")
    parser.add_argument("--paperbell", default=str(Path(sys.executable).parent / "paperbell"),
                        help="the console script (default: the one next to this Python)")
    args = parser.parse_args(argv)
    source = args.source.resolve() if args.source else None
    figures = measure(args.paperbell, source, args.runs)
    load: Callable[[], tuple[float, float, float]] = os.getloadavg
    print(json.dumps({"benchmark": "startup", "source": str(source or ROOT), "runs": args.runs,
                      "python": sys.version.split()[0], "loadavg_1m": round(load()[0], 2),
                      "targets_s": {"commands_wall": 0.5, "healthz_wall": 3.0}, **figures}))


if __name__ == "__main__":
    main()
