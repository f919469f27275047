"""The guide's "five minutes against the demo" followed by a second player on the same panel: its
match result is a new match of its own, not a 409 for reusing the first player's match id."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from apps.multiplayer.models import Match
from tests.devdocs.test_quick_start import quick_start_script


def _follow_the_guide(base_url: str, user_id: str, directory: Path) -> dict:
    """The guide's steps verbatim, logged in as `user_id`: the match step's answer."""
    script = quick_start_script(base_url).replace('"user_id": "alice"', f'"user_id": "{user_id}"')
    run = subprocess.run(
        ["bash", "-c", script], cwd=directory, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    outputs = [part.strip() for part in re.split(r"--- step \d+ ---", run.stdout)]
    return json.loads(outputs[5])


def test_a_second_player_following_the_guide_records_a_match_of_its_own(demo_panel, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("needs curl, as the guide does")
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()

    first = _follow_the_guide(demo_panel, "alice", tmp_path / "alice")
    second = _follow_the_guide(demo_panel, "bob", tmp_path / "bob")

    assert "players" in second, second  # not a match_id_conflict problem
    assert first["match_id"] != second["match_id"]
    assert first["players"][0]["player_id"] != second["players"][0]["player_id"]
    assert Match.objects.filter(match_id__in=[first["match_id"], second["match_id"]]).count() == 2
