"""The app server's collector pauses: :func:`ui.heap.settle` freezes the live heap once per page."""

from __future__ import annotations

import gc

from ui import heap


def test_settle_freezes_once_per_page() -> None:
    before = gc.get_freeze_count()
    try:
        heap.settle("test-page-a")
        first = gc.get_freeze_count()
        assert first > before  # what was alive is now out of the collector's view
        kept = [[i] for i in range(1_000)]  # new (tracked) objects, collected as before
        heap.settle("test-page-a")
        assert gc.get_freeze_count() == first  # the same page again: nothing frozen
        heap.settle("test-page-b")
        assert gc.get_freeze_count() >= first + len(kept)
    finally:
        gc.unfreeze()
