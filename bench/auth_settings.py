"""Settings of the web processes bench/auth_validate.py starts: the panel plus the baselines."""

from gamingpanel.settings import *  # noqa: F403

ROOT_URLCONF = "auth_baseline"
