"""A live demo panel (pytest-django's live_server, the demo game seeded) for end-to-end runs."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import call_command


@pytest.fixture
def demo_panel(live_server, transactional_db: None) -> str:
    """The base URL of a running panel serving a freshly seeded demo game."""
    call_command("seed_demo", quiet=True)
    return live_server.url


@pytest.fixture
def node() -> str:
    node_path = shutil.which("node")
    if node_path is None or shutil.which("npm") is None:
        pytest.skip("needs node and npm to run newman (apt-get install nodejs npm)")
    return node_path
