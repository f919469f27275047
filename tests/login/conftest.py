"""The accounts tests' fixtures: logging in through the real endpoint."""

from tests.accounts.conftest import dev_platform, login, tokens  # noqa: F401  (fixtures)
