"""Schemathesis with every check (`--checks all`) against the live, seeded demo: the schema at
/api/v1/schema/ is what the server does, for generated valid and invalid requests alike.

Operations and the statuses the schema cannot express are in schemathesis.toml beside this
file. The run is bounded (examples per operation, a fixed seed) to stay within a few minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("GP_SCHEMATHESIS_EXAMPLES", "10"))


def test_schemathesis_with_all_checks_passes_against_the_demo(demo_panel, settings, tmp_path):
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.fail("schemathesis is a dev dependency: pip install -e '.[dev]'")
    # The run sends thousands of requests with one token from one address.
    settings.RATE_LIMIT_PER_HOUR = 10**9
    settings.AUTH_RATE_LIMIT_PER_MINUTE = 10**9
    settings.AUTH_GAME_RATE_LIMIT_PER_MINUTE = 10**9
    login = requests.post(
        f"{demo_panel}/api/v1/auth/third-party/login",
        json={"platform": "dev", "credentials": {"user_id": "schemathesis"}},
        headers={"X-Game-Key": "demo-client-key"},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    env = {
        **os.environ,
        "GP_FUZZ_TOKEN": login.json()["access_token"],
        "GP_FUZZ_SERVER_KEY": "demo-server-key",
        "GP_FUZZ_GAME_KEY": "demo-client-key",
        "SCHEMATHESIS_HOOKS": "",
    }

    run = subprocess.run(
        [
            st,
            "--config-file",
            str(CONFIG),
            "run",
            f"{demo_panel}/api/v1/schema/?format=json",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "16",
            "--workers",
            "1",
            "--no-color",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # its cache (.schemathesis/) stays out of the checkout
        env=env,
    )

    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
