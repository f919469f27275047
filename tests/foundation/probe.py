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
    inherited = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES}
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "gamingpanel.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)
