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

import logging

from sqlalchemy import text

from geo.settings import Settings
from geo.store.postgis import engine_for, retry_reads

logger = logging.getLogger(__name__)

#: Largest entry stored (bytes); larger results stay in the local cache only.
MAX_ENTRY_BYTES = 512 * 1024 * 1024


class ResultCache:
    """Key → bytes in the ``atlas_cache`` table of a PostgreSQL database.

    Parameters
    ----------
    url
        ``postgresql://…`` of the database.
    """

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)

    @retry_reads
    def get(self, key: str) -> bytes | None:
        """The stored bytes of ``key``, or ``None``."""
        with self.engine.connect() as con:
            row = con.execute(text("SELECT payload FROM atlas_cache WHERE key = :k"), {"k": key}).first()
        return None if row is None else bytes(row[0])

    def put(self, key: str, payload: bytes) -> bool:
        """Store ``payload`` under ``key`` (one transaction); ``False`` if the key existed or it is too large."""
        if len(payload) > MAX_ENTRY_BYTES:
            logger.info("cache entry %s too large for the database (%d bytes)", key, len(payload))
            return False
        with self.engine.begin() as con:
            inserted = con.execute(
                text("INSERT INTO atlas_cache (key, payload) VALUES (:k, :p) ON CONFLICT (key) DO NOTHING"),
                {"k": key, "p": payload},
            ).rowcount
        return bool(inserted)

    @retry_reads
    def keys(self, prefix: str = "") -> list[str]:
        """Stored keys starting with ``prefix``, sorted."""
        with self.engine.connect() as con:
            rows = con.execute(
                text("SELECT key FROM atlas_cache WHERE starts_with(key, :p) ORDER BY key"), {"p": prefix}
            ).all()
        return [r[0] for r in rows]


def open_result_cache(settings: Settings) -> ResultCache | None:
    """The shared result cache of ``settings``, or ``None`` without a database."""
    return ResultCache(settings.database_url) if settings.database_url else None
