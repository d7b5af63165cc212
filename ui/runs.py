"""Long runs with progress, shared between sessions, outside Streamlit's cache.

A site plan takes seconds to minutes and reports its progress. Streamlit's
``st.cache_data``/``st.cache_resource`` record every ``st.*`` call made inside
the cached function and replay it on the next hit; a progress bar that was
made *outside* the function cannot be replayed, so the second request for the
same plan (again, after a reload, or by another user) failed with
``CacheReplayClosureError``. Here the result is cached by plain Python, keyed
by the same hashable parameters, and the progress callback is the caller's:
nothing is ever replayed, a hit simply returns the result.

Two sessions asking for the same result at once compute it once: the second
waits on the first one's lock and then takes the result.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: ``progress(fraction, message)``, ``fraction`` in [0, 1].
Progress = Callable[[float, str], None]


class RunCache(Generic[T]):
    """A bounded, thread-safe, process-wide cache of long runs.

    Parameters
    ----------
    max_entries
        How many results are kept (least recently used ones are dropped).

    Examples
    --------
    >>> runs: RunCache[int] = RunCache(2)
    >>> runs.get_or_run(("a", 1), lambda progress: 41 + 1, None)
    42
    >>> runs.get_or_run(("a", 1), lambda progress: 0, None)  # a hit: not run again
    42
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._results: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self._running: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> T | None:
        """The cached result of ``key``, or ``None``."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        return None

    def get_or_run(self, key: Hashable, run: Callable[[Progress | None], T], progress: Progress | None) -> T:
        """The result of ``key``; computed by ``run(progress)`` when it is not cached yet.

        Exceptions of ``run`` are not cached: the next call tries again.
        """
        hit = self.get(key)
        if hit is not None:
            return hit
        with self._lock:
            key_lock = self._running.setdefault(key, threading.Lock())
        with key_lock:  # one computation per key; a second caller waits for it
            hit = self.get(key)
            if hit is not None:
                return hit
            try:
                result = run(progress)
                with self._lock:
                    self._results[key] = result
                    self._results.move_to_end(key)
                    while len(self._results) > self.max_entries:
                        self._results.popitem(last=False)
            finally:
                with self._lock:
                    self._running.pop(key, None)
            return result

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._results.clear()
