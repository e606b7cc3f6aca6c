"""`paperbell run` answers /healthz before the heavy libraries load: building the web front imports none.

The web role starts first and everything on its way to listening is paid before /healthz answers;
the learner (scikit-learn, scipy) and the matcher's numpy are loaded by the first request that needs
them (a manage page with learned preferences, a search), and the worker's modules after the web
listens. Checked in a fresh interpreter, as the service starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("sklearn", "scipy", "numpy", "discord", "apscheduler", "pylatexenc", "dkim", "alembic")
BUILD = """
import json, sys
from digest.runtime import app  # the service's module, as `paperbell run` imports it
from digest.runtime.ops_routes import ops_routes
from digest.runtime.parts import build_parts
from digest.runtime.metrics import Metrics
from digest.runtime.web_app import web_app
from digest.settings import load_settings
settings = load_settings()
db = build_parts(settings).db
web_app(settings, db, extra_routes=ops_routes(settings, db, Metrics(db)))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_building_the_served_web_front_loads_no_heavy_library(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBELL_")}
    env.update(PAPERBELL_DATA_DIR=str(tmp_path), PAPERBELL_LOG_LEVEL="ERROR")
    for _ in range(2):  # the first start also makes the schema (Alembic); the second is every later start
        done = subprocess.run([sys.executable, "-c", BUILD], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
