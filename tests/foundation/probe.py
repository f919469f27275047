"""What a fresh process configured by a given environment reads from settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

# Variables that choose the deployment: a probe sets them itself or takes the defaults.
DEPLOYMENT_VARIABLES = {
    "DEPLOYMENT_NAME",
    "CACHE_KEY_PREFIX",
    "DATABASE_URL",
    "PORT",
    "PUBLIC_BASE_URL",
}


def configured(expression: str, **env: str) -> object:
    """The value of `expression` over `settings` in a new Python whose environment is this one's
    without DEPLOYMENT_VARIABLES, plus `env`."""
    script = f"import json; from django.conf import settings; print(json.dumps({expression}))"
    return json.loads(_run(script, env, check=True).stdout)


def refusal(**env: str) -> str | None:
    """What django.setup() says when it refuses to start in such a new Python (its last line of
    error output); None when it starts."""
    run = _run("import django; django.setup()", env, check=False)
    return run.stderr.strip().splitlines()[-1] if run.returncode else None


def _run(script: str, env: dict[str, str], *, check: bool) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "gamingpanel.settings", **env},
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )
