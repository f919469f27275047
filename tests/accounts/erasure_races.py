"""The erasure racing another write, on PostgreSQL with real threads (test_privacy_races.py,
test_erased_server_races.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player


def race_with_erasure(write: Callable[[], int], player: Player) -> tuple[int, bool]:
    """`write()` (an HTTP call answering its status) and the player's erasure, started together
    on two connections: (the write's status, whether this erasure erased)."""
    start = threading.Barrier(2)

    def writing() -> int:
        try:
            start.wait()
            return write()
        finally:
            connection.close()

    def erasing() -> bool:
        try:
            start.wait()
            return erase_player(player=player, actor=None)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        written, erased = pool.submit(writing), pool.submit(erasing)
        return written.result(), erased.result()
