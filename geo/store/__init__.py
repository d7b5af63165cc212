"""The data store: imported and fetched layers as restorable batches, and saved scenarios.

* :mod:`geo.store.datastore` – the local GeoPackage store (:class:`DataStore`), the embedded default;
* :mod:`geo.store.postgis` – the same store in PostgreSQL/PostGIS for a multi-user server
  (:class:`~geo.store.postgis.PostgisStore`), used when ``Settings.database_url`` is set;
* :mod:`geo.store.scenarios` – saved siting plans, crash-safe, on either backend.

Both backends implement one interface, :class:`Store`, and callers get theirs
from the one constructor :func:`open_store`. No analysis asks which backend it
has (``settings.database_url``); it asks the store.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from geo.settings import Settings
from geo.store.datastore import BATCHES_TABLE, MODES, PENDING_TABLE, BatchInfo, DataStore, Mode

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.store.postgis import ResultCache

__all__ = [
    "BATCHES_TABLE",
    "MODES",
    "PENDING_TABLE",
    "BatchInfo",
    "DataStore",
    "Mode",
    "Store",
    "has_layer",
    "open_store",
    "store_exists",
]


@runtime_checkable
class Store(Protocol):
    """What every data-store backend offers (GeoPackage and PostgreSQL/PostGIS).

    Layers are written in restorable batches (:meth:`write_layer`,
    :meth:`deactivate`, :meth:`restore`) and read as the union of their active
    batches (:meth:`read_layer`); :meth:`batches` and :meth:`layer_meta` give
    the provenance; :meth:`state_token` changes with every change;
    :meth:`result_cache` is the cache shared by the processes of a server (or
    ``None``).
    """

    @property
    def location(self) -> str:
        """Where the data lives, for messages."""

    def exists(self) -> bool:
        """Whether anything can be stored or read yet."""

    def write_layer(
        self,
        layer_id: str,
        gdf: gpd.GeoDataFrame,
        *,
        mode: Mode,
        source_file: str,
        source: str,
        licence: str,
        url: str | None = None,
        rows_in: int | None = None,
        rows_rejected: int = 0,
        unique_column: str | None = None,
        publisher: str = "",
        as_of: str | None = None,
    ) -> BatchInfo:
        """Store ``gdf`` as a new batch of layer ``layer_id``."""

    def deactivate(self, batch_id: str) -> bool:
        """Switch a batch off (restorable)."""

    def restore(self, batch_id: str) -> bool:
        """Switch a batch on again."""

    def transaction(self) -> AbstractContextManager[Any]:
        """One transaction for other modules' tables (scenarios)."""

    def read_layer(self, layer_id: str) -> gpd.GeoDataFrame | None:
        """All active batches of a layer, or ``None``."""

    def batches(self, layer_id: str | None = None) -> list[BatchInfo]:
        """Metadata of the batches, newest first."""

    def layer_meta(self, layer_id: str) -> BatchInfo | None:
        """The newest active batch of a layer, or ``None``."""

    def layer_ids(self) -> list[str]:
        """Layers with active data."""

    def state_token(self) -> str:
        """A short string that changes with every change of the store."""

    def result_cache(self) -> ResultCache | None:
        """The result cache shared by all processes of a server, or ``None``."""


def open_store(settings: Settings) -> Store:
    """The data store of ``settings``: PostGIS if ``database_url`` is set, else the GeoPackage.

    The one constructor of a :class:`Store`.

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


def has_layer(settings: Settings, layer_id: str) -> bool:
    """Whether the store of ``settings`` holds active data of ``layer_id`` (without reading it).

    >>> from pathlib import Path
    >>> has_layer(Settings(store_path=Path("/tmp/nowhere/store.gpkg")), "zensus")
    False
    """
    return store_exists(settings) and open_store(settings).layer_meta(layer_id) is not None
