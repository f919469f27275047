"""examples/game_server/ run end to end, as a studio would, against a live demo panel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests
from django.conf import settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "game_server"


def _log_in(panel: str, user_id: str) -> dict:
    response = requests.post(
        f"{panel}/api/v1/auth/third-party/login",
        headers={"X-Game-Key": settings.DEMO_CLIENT_KEY},
        json={"platform": "dev", "credentials": {"user_id": user_id}},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _run_example(panel: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "game_server.py", "--panel", panel, *args],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _get(panel: str, path: str, token: str) -> requests.Response:
    return requests.get(
        f"{panel}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_reference_server_admits_valid_players_and_posts_the_match(demo_panel):
    alice, bob = _log_in(demo_panel, "gs-alice"), _log_in(demo_panel, "gs-bob")

    run = _run_example(
        demo_panel,
        *("--server-key", settings.DEMO_SERVER_KEY, "--match-id", "example-e2e-1", "--seed", "7"),
        *("--token", alice["access_token"], "--token", bob["access_token"]),
        *("--token", "not-a-real-token"),
    )

    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["admitted"] == [alice["player"]["id"], bob["player"]["id"]]
    assert summary["refused"] == ["invalid_token"]
    match = summary["match"]
    assert match["match_id"] == "example-e2e-1"
    awarded = {line["player_id"]: line["xp_awarded"] for line in match["players"]}
    assert set(awarded) == {alice["player"]["id"], bob["player"]["id"]}
    # The panel applied the result: a fresh player's XP is exactly what this match awarded.
    stats = _get(demo_panel, "player/stats", alice["access_token"]).json()
    assert stats["xp"] == awarded[alice["player"]["id"]] > 0
    # ...and the server deregistered on the way out.
    servers = _get(demo_panel, "multiplayer/server-info", alice["access_token"]).json()
    assert "example-server-1" not in [server["server_id"] for server in servers]


def test_reference_server_stops_on_a_wrong_server_key(demo_panel):
    run = _run_example(demo_panel, "--server-key", "not-the-key", "--token", "x")

    assert run.returncode != 0
    assert "panel call failed: 401 invalid_server_key" in run.stderr
    assert run.stdout == ""
