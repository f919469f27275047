"""A per-process cache whose entries live a few seconds: for rows every request reads and that
change rarely (the caller's player and game). Its staleness bound is its lifetime, which each
user states beside its own data; nothing invalidates it but time, so it needs no signal or
trigger on anybody's tables."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

Value = TypeVar("Value")


class Clearable(Protocol):
    def clear(self) -> None: ...


ClearableT = TypeVar("ClearableT", bound=Clearable)
_every_cache: list[Clearable] = []


def register_clearable(state: ClearableT) -> ClearableT:
    """Per-process state that clear_every_cache() empties too (tests start with none)."""
    _every_cache.append(state)
    return state


class ShortCache(Generic[Value]):
    def __init__(self, *, seconds: float, max_entries: int = 50_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Value]] = {}
        self._lock = threading.Lock()
        register_clearable(self)

    def get_or_load(
        self,
        key: Hashable,
        load: Callable[[], Value | None],
        *,
        still_good: Callable[[Value], bool] | None = None,
    ) -> Value | None:
        """The cached value while it is younger than `seconds` (and, when given, `still_good`
        says so: the caller knows of a newer one), else `load()` (None is not cached: a row
        that does not exist yet may exist on the next request)."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if (
            entry is not None
            and now - entry[0] < self.seconds
            and (still_good is None or still_good(entry[1]))
        ):
            return entry[1]
        value = load()
        if value is not None:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()  # rare: far more callers than a process serves
                self._entries[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear_every_cache() -> None:
    """Tests: start with nothing cached in this process."""
    for cache in _every_cache:
        cache.clear()
