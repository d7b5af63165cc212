"""The data store: imported and fetched layers as restorable batches, and saved scenarios.

* :mod:`geo.store.datastore` – the local GeoPackage store (:class:`DataStore`), the embedded default;
* :mod:`geo.store.postgis` – the same store in PostgreSQL/PostGIS for a multi-user server
  (:class:`~geo.store.postgis.PostgisStore`), used when ``Settings.database_url`` is set;
* :mod:`geo.store.scenarios` – saved siting plans, crash-safe, on either backend.

Callers get the right one from :func:`open_store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from geo.settings import Settings
from geo.store.datastore import BATCHES_TABLE, MODES, PENDING_TABLE, BatchInfo, DataStore, Mode

if TYPE_CHECKING:
    from geo.store.postgis import PostgisStore

#: Either backend; both offer the same methods.
Store: TypeAlias = "DataStore | PostgisStore"

__all__ = [
    "BATCHES_TABLE",
    "MODES",
    "PENDING_TABLE",
    "BatchInfo",
    "DataStore",
    "Mode",
    "Store",
    "open_store",
    "store_exists",
]


def open_store(settings: Settings) -> Store:
    """The data store of ``settings``: PostGIS if ``database_url`` is set, else the GeoPackage.

    >>> from pathlib import Path
    >>> open_store(Settings(store_path=Path("/tmp/x/store.gpkg")))
    DataStore('/tmp/x/store.gpkg')
    """
    if settings.database_url:
        from geo.store.postgis import PostgisStore  # SQLAlchemy only when a database is configured

        return PostgisStore(settings.database_url)
    return DataStore(settings.store_path)


def store_exists(settings: Settings) -> bool:
    """Whether the store can hold data yet (a database is configured, or the GeoPackage file exists).

    Cheap: neither opens the GeoPackage nor connects to the database.
    """
    return bool(settings.database_url) or settings.store_path.exists()
