"""Cached results (e.g. street networks) shared by all app processes of a server.

With ``Settings.database_url`` set, entries live in the PostgreSQL table
``atlas_cache`` (created by the migrations of :mod:`geo.store.postgis`), so a
result computed by one app process or server is reused by the others.
Without a database there is nothing to share: :func:`open_result_cache`
returns ``None`` and callers keep their local files in ``Settings.cache_dir``.

Entries are immutable and keyed by content (the caller's key includes the
hashes of the inputs): the first writer of a key wins, later writers of the
same key change nothing (``ON CONFLICT DO NOTHING``), so concurrent writers
need no coordination.
"""

from __future__ import annotations

from geo.settings import Settings
from geo.store.postgis import MAX_ENTRY_BYTES, ResultCache

__all__ = ["MAX_ENTRY_BYTES", "ResultCache", "open_result_cache"]


def open_result_cache(settings: Settings) -> ResultCache | None:
    """The shared result cache of the store of ``settings`` (:meth:`geo.store.Store.result_cache`), or ``None``."""
    from geo.store import open_store, store_exists

    return open_store(settings).result_cache() if store_exists(settings) else None
