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
import signal
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

    #: Seconds between beats until the panel's first answer says `ttl_seconds` (a third of its 30).
    DEFAULT_INTERVAL = 10.0
    #: A failed beat is sent again this soon, once, so that one lost beat does not drop the server.
    RETRY_DELAY = 2.0
    #: Longest wait between beats while the game has no place for this server (409 too_many_servers).
    MAX_BACKOFF = 60.0

    def __post_init__(self) -> None:
        self.interval = self.DEFAULT_INTERVAL
        self.listed = False
        #: Called with the PanelError of a `409 too_many_servers` (its `problem["limit"]`): the server is
        #: not listed; it keeps beating with backoff and is listed once another server stops.
        self.on_too_many_servers = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._backoff = 0.0

    def beat(self) -> int:
        with self._lock:  # one beat at a time: the loop's, admit()'s, never one after deregister
            if self._stop.is_set():
                return int(self.interval * 3)
            ttl = self.panel.heartbeat(
                server_id=self.server_id,
                region=self.region,
                address=self.address,
                port=self.port,
                players=len(self.players),
                capacity=self.capacity,
                mode=self.mode,
                version=self.version,
            )
            self._registered = self.listed = True
            self._backoff = 0.0
            if isinstance(ttl, (int, float)) and ttl > 0:
                self.interval = max(1.0, ttl / 3)
            return ttl

    def _too_many_servers(self, exc: PanelError) -> float:
        """The game has as many live servers as it may: say so, and wait longer each time (up to a minute)."""
        self.listed = False
        self._backoff = min(self.MAX_BACKOFF, self._backoff * 2 if self._backoff else self.interval)
        logging.warning(
            "not listed: the game already has %s live servers (409 too_many_servers); beating again in %.0f s",
            exc.problem.get("limit", "its maximum of"),
            self._backoff,
        )
        if self.on_too_many_servers is not None:
            self.on_too_many_servers(exc)
        return self._backoff

    def _beat_once(self, failed_before: bool) -> tuple[float, bool]:
        """One beat; answers the wait before the next one and whether this one failed."""
        try:
            self.beat()
        except PanelError as exc:
            if exc.status == 409 and exc.code == "too_many_servers":
                return self._too_many_servers(exc), False
            logging.warning("heartbeat failed: %s", exc)
        except Exception as exc:  # keep serving players; the next beat may get through
            logging.warning("heartbeat failed: %s", exc)
        else:
            return self.interval, False
        # Sent again soon, once: a single lost beat must not take the server off the list.
        return (self.interval if failed_before else self.RETRY_DELAY), True

    def start_heartbeats(self) -> threading.Thread:
        """Beat now, then every third of the TTL the panel answers, until stop().

        A `409 too_many_servers` (the game is at its live-server limit) does not stop the server: it
        is reported (log, `on_too_many_servers`) and beaten again with backoff, since a place frees
        when another server stops. Other refusals of the first beat (a wrong key) stop it.
        """
        try:
            self.beat()
            wait, failed = self.interval, False
        except PanelError as exc:
            if exc.status != 409 or exc.code != "too_many_servers":
                raise
            wait, failed = self._too_many_servers(exc), False

        def loop() -> None:
            delay, failed_before = wait, failed
            while not self._stop.wait(delay):
                delay, failed_before = self._beat_once(failed_before)

        self._thread = threading.Thread(target=loop, name="heartbeat", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """Stop beating, then deregister (after any beat in flight, so that it cannot list the server again)."""
        self._stop.set()
        with self._lock:
            registered, self._registered, self.listed = self._registered, False, False
        if registered:
            try:
                self.panel.deregister(self.server_id)
            except PanelError as exc:  # it drops off the list after ttl_seconds anyway
                logging.warning("deregister failed: %s", exc)

    # --- players -----------------------------------------------------------------------------

    def admit(self, access_token: str) -> AdmittedPlayer | Refused:
        """A player connects with their access token: let them in only if the panel says so."""
        if len(self.players) >= self.capacity:
            return Refused(reason="server_full")
        verdict = self.panel.validate_player(access_token)
        if isinstance(verdict, AdmittedPlayer):
            self.players[verdict.player_id] = verdict
            try:
                self.beat()  # the list shows the new player count at once
            except PanelError as exc:  # the heartbeat loop keeps trying
                logging.warning("heartbeat failed: %s", exc)
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
    # A stop from the host (docker stop, systemd, Agones...) ends the session through its `finally`,
    # which deregisters: otherwise the server would hold a place on the list for ttl_seconds.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        summary = run_session(server, tokens=args.token, match_id=args.match_id, seed=args.seed)
    except PanelError as exc:
        print(f"game_server: panel call failed: {exc}", file=sys.stderr)
        return 2
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    return 0 if summary["admitted"] else 1


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


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
