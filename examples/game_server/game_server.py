"""A reference dedicated game server, reduced to what touches the Gaming Panel.

    python game_server.py --panel http://127.0.0.1:8000 --server-key demo-server-key \
        --token <access token of player 1> --token <access token of player 2>

It registers itself and keeps heartbeating, admits each joining player only after the panel
validated their access token, plays a (simulated) match, posts the result once, and
deregisters. It prints a JSON summary on standard output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from panel_client import AdmittedPlayer, PanelClient, PanelError, Refused


@dataclass
class GameServer:
    panel: PanelClient
    server_id: str
    region: str = "eu-west"
    address: str = "127.0.0.1"
    port: int = 7777
    capacity: int = 16
    mode: str = "deathmatch"
    version: str = "1.0.0"
    players: dict[int, AdmittedPlayer] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _registered: bool = False

    # --- registry ----------------------------------------------------------------------------

    def beat(self) -> int:
        return self.panel.heartbeat(
            server_id=self.server_id,
            region=self.region,
            address=self.address,
            port=self.port,
            players=len(self.players),
            capacity=self.capacity,
            mode=self.mode,
            version=self.version,
        )

    def start_heartbeats(self) -> threading.Thread:
        """Beat now, then every third of the TTL the panel answers, until stop()."""
        interval = max(1.0, self.beat() / 3)
        self._registered = True

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.beat()
                except Exception as exc:  # keep serving players; the next beat may get through
                    logging.warning("heartbeat failed: %s", exc)

        thread = threading.Thread(target=loop, name="heartbeat", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
        if self._registered:
            self.panel.deregister(self.server_id)

    # --- players -----------------------------------------------------------------------------

    def admit(self, access_token: str) -> AdmittedPlayer | Refused:
        """A player connects with their access token: let them in only if the panel says so."""
        if len(self.players) >= self.capacity:
            return Refused(reason="server_full")
        verdict = self.panel.validate_player(access_token)
        if isinstance(verdict, AdmittedPlayer):
            self.players[verdict.player_id] = verdict
            self.beat()  # the list shows the new player count at once
        return verdict

    # --- the match ---------------------------------------------------------------------------

    def play_match(self, match_id: str, rng: random.Random) -> dict:
        started_at = datetime.now(UTC)
        ranking = sorted(self.players, key=lambda _: rng.random())
        lines = []
        for place, player_id in enumerate(ranking):
            kills = rng.randint(0, 10)
            lines.append(
                {
                    "player_id": player_id,
                    "outcome": "win" if place == 0 else "loss",
                    "score": 100 * kills,
                    "stats": {"kills": kills, "deaths": rng.randint(0, 10)},
                }
            )
        ended_at = datetime.now(UTC)
        return self.panel.post_match_result(
            {
                "match_id": match_id,
                "mode": self.mode,
                "started_at": started_at.isoformat(),
                "ended_at": ended_at.isoformat(),
                "players": lines,
            }
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panel", default=os.environ.get("PANEL_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--server-key", default=os.environ.get("PANEL_SERVER_KEY", ""))
    parser.add_argument("--server-id", default="example-server-1")
    parser.add_argument("--match-id", default="")
    parser.add_argument("--token", action="append", default=[], help="a joining player's token")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if not args.server_key:
        parser.error("give --server-key or PANEL_SERVER_KEY (never hard-code it)")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    server = GameServer(PanelClient(args.panel, args.server_key), server_id=args.server_id)
    try:
        summary = run_session(server, tokens=args.token, match_id=args.match_id, seed=args.seed)
    except PanelError as exc:
        print(f"game_server: panel call failed: {exc}", file=sys.stderr)
        return 2
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    return 0 if summary["admitted"] else 1


def run_session(server: GameServer, *, tokens: list[str], match_id: str, seed: int | None) -> dict:
    """Register, admit the joining players, play one match, post it, deregister."""
    server.start_heartbeats()
    try:
        admitted, refused = [], []
        for token in tokens:
            verdict = server.admit(token)
            if isinstance(verdict, AdmittedPlayer):
                admitted.append(verdict.player_id)
            else:
                refused.append(verdict.reason)
        match = None
        if server.players:
            match_id = match_id or f"{server.server_id}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
            match = server.play_match(match_id, random.Random(seed))
    finally:
        server.stop()
    return {"admitted": admitted, "refused": refused, "match": match}


if __name__ == "__main__":
    sys.exit(main())
