"""examples/game_server/ heartbeat rules against a fake panel (no database): a third of ttl_seconds,
409 too_many_servers beaten again with backoff instead of stopping, deregistration on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "game_server"
sys.path.insert(0, str(EXAMPLE))

from game_server import GameServer  # noqa: E402
from panel_client import PanelError  # noqa: E402

FULL = PanelError(409, "too_many_servers", "full", "", {"limit": 2})


class FakePanel:
    """Answers beats from a script (then ttl 30); records beats and deregistrations."""

    def __init__(self, *beats):
        self.script, self.calls = list(beats), []

    def heartbeat(self, **server):
        self.calls.append("beat")
        answer = self.script.pop(0) if self.script else 30
        if isinstance(answer, Exception):
            raise answer
        return answer

    def deregister(self, server_id):
        self.calls.append(f"deregister {server_id}")


def _fast(server: GameServer) -> GameServer:
    server.DEFAULT_INTERVAL, server.RETRY_DELAY, server.MAX_BACKOFF = 0.05, 0.01, 0.2
    server.interval = server.DEFAULT_INTERVAL
    return server


def test_a_409_at_the_first_beat_is_reported_and_beaten_again_with_backoff():
    panel = FakePanel(FULL, FULL, 3)
    server = _fast(GameServer(panel, "eu-1"))
    reported = []
    server.on_too_many_servers = reported.append
    server.start_heartbeats()  # no exception: the server keeps serving players
    deadline = time.monotonic() + 5
    while not server.listed and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop()
    assert [error.problem["limit"] for error in reported] == [2, 2]
    assert server.interval == 1.0  # a third of ttl_seconds (at least 1 s)
    assert panel.calls == ["beat", "beat", "beat", "deregister eu-1"]


def test_a_wrong_key_at_the_first_beat_still_stops_the_server():
    panel = FakePanel(PanelError(401, "invalid_server_key", "no"))
    with pytest.raises(PanelError):
        GameServer(panel, "eu-1").start_heartbeats()


def test_a_failed_beat_is_sent_again_soon_once():
    panel = FakePanel(
        30, PanelError(0, "network_error", "x"), PanelError(503, "unavailable", "x"), 30
    )
    server = GameServer(panel, "eu-1")
    server.start_heartbeats()
    server._stop.set()  # the loop ends; beats driven by hand below
    server._thread.join()
    server._stop.clear()
    assert server.interval == 10
    assert server._beat_once(False) == (server.RETRY_DELAY, True)
    assert server._beat_once(True) == (server.interval, True)
    server._stop.clear()
    assert server._beat_once(True) == (server.interval, False)


class _Panel(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_POST(self):
        path = self.path.removeprefix("/api/v1/")
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Panel.calls.append(path)
        if path == "multiplayer/servers/heartbeat":
            body = json.dumps({"server_id": "s", "ttl_seconds": 30}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == "multiplayer/validate-token":
            body = b'{"valid": true, "player_id": 1, "player": {}}'
            time.sleep(30)  # a slow panel: the session is still running when SIGTERM comes
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


def test_sigterm_deregisters():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Panel)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    panel = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "game_server.py",
                "--panel",
                panel,
                "--server-key",
                "k",
                "--token",
                "t",
            ],
            cwd=EXAMPLE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while "multiplayer/validate-token" not in _Panel.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert _Panel.calls[-1] == "multiplayer/servers/deregister"
    finally:
        httpd.shutdown()
