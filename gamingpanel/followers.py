"""A daemon thread per process that keeps an in-memory mirror current (apps.accounts.mirror):
started on first use, reset in a forked child, stoppable in tests."""

from __future__ import annotations

import os
import threading


class Follower:
    thread_name = "follower"

    def __init__(self) -> None:
        self._lock = threading.Lock()  # starting and stopping the thread
        self._changing = threading.Lock()  # for subclasses: applying a change vs. filling in
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        os.register_at_fork(after_in_child=self._after_fork)

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Tests: stop following and forget everything."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout=5)
        self.forget()

    def _after_fork(self) -> None:
        # A forked child has no thread of its parent's, and no reason to trust its copy.
        self._thread = None
        self._lock = threading.Lock()
        self._changing = threading.Lock()
        self.forget()

    def forget(self) -> None:
        """Drop everything mirrored: nothing is trusted until the thread has checked again."""
        raise NotImplementedError

    def _run(self) -> None:
        raise NotImplementedError
