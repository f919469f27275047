"""Settings for web processes the accounts tests start: the panel's, plus a test endpoint."""

from gamingpanel.settings import *  # noqa: F403

ROOT_URLCONF = "tests.accounts.server_urls"
