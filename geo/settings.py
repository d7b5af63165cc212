"""One typed settings object, passed in explicitly.

Nothing here mutates module globals. Entry points (app, CLI, tests) build a
:class:`Settings` with :meth:`Settings.from_env` or directly and hand it down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from geo.errors import DataError

#: Root of the repository (the folder holding ``pyproject.toml``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Official CRS of NRW: ETRS89 / UTM zone 32N, metres. All computation happens here.
PROJECTED_CRS = "EPSG:25832"
#: CRS used only for drawing on web maps.
DISPLAY_CRS = "EPSG:4326"


@dataclass(frozen=True)
class Settings:
    """Paths, CRS and thresholds for one run of the application.

    Parameters
    ----------
    data_dir
        Folder with the embedded base data that ships with the project.
    store_path
        Local GeoPackage data store for imported and fetched data (git-ignored).
    cache_dir
        Cache for downloads and street networks (git-ignored).
    crs
        CRS for storage and computation (EPSG:25832).
    max_upload_bytes
        Largest file accepted by the importer (size on disk, compressed).
    max_uncompressed_bytes
        Largest total size of the members of a ZIP-based upload (XLSX,
        Shapefile-ZIP) after unpacking, checked in the ZIP's directory before
        anything is unpacked and again while unpacking (against lying headers).
    max_member_bytes
        Largest single member of a ZIP-based upload after unpacking (a
        ``.prj`` or a worksheet); sidecar files (``.prj``, ``.cpg``) may be
        at most 1 MB regardless.
    max_rows
        Most data rows (features) one import may have.
    max_cells
        Most cells (rows × columns) one import may have; for XLSX checked
        against the sheet's declared dimension before reading.
    max_json_depth
        Deepest nesting of arrays/objects in a GeoJSON file, checked by an
        iterative scanner before parsing (a MultiPolygon needs 4 levels).
    max_feed_bytes
        Largest unpacked size of a GTFS feed or a Zensus grid ZIP (sum of the
        members read; the Germany-wide files are far larger than an upload),
        checked in the ZIP directory and again while streaming.
    max_osm_bytes
        Largest unpacked size of an OSM extract: the sum of the declared raw
        block sizes of an ``.osm.pbf``, the size of an ``.osm`` file, or what
        an ``.osm.bz2``/``.osm.gz`` unpacks to (counted while streaming).
    snap_max_m
        Demand points farther than this from the street network are unreachable.
    online
        Whether online sources may be contacted at all.
    database_url
        ``postgresql://user:password@host:port/db`` of a PostgreSQL/PostGIS
        database for a multi-user server; then the data store, import
        batches and scenarios live there instead of in ``store_path``.
        ``None`` (default): the local GeoPackage.
    tiles
        Online background maps: ``"auto"`` shows them when a quick probe
        reaches the tile server, ``"on"`` always, ``"off"`` never (air-gapped
        installations); env ``INTEGRATIONSATLAS_TILES``.
    tiles_dir
        Local raster tiles the administration already has: a folder of
        ``z/x/y.png`` (or ``.jpg``/``.webp``) tiles or an ``.mbtiles`` file,
        offered as the first background layer and switched on (works
        offline); env ``INTEGRATIONSATLAS_TILES_DIR``. ``None``: none.
    upload_max_age_hours
        Uploaded OSM extracts and GTFS feeds (:mod:`geo.store.uploads`) unused
        for longer are deleted; env ``INTEGRATIONSATLAS_UPLOAD_MAX_AGE_HOURS``.
    network_tile_bytes
        OSM extracts of at least this size (a Regierungsbezirk or the Land)
        are built as street-network tiles, one per Kreis
        (:mod:`geo.sources.network_tiles`); a question then opens only the
        tiles of its area. Smaller extracts are built whole.
    network_tile_minutes
        Travel time up to which a tile is exact: its overlap buffer is this
        time at the fastest speed on the network.
    """

    data_dir: Path = PROJECT_ROOT / "data"
    store_path: Path = PROJECT_ROOT / ".integrationsatlas" / "store.gpkg"
    cache_dir: Path = PROJECT_ROOT / ".integrationsatlas" / "cache"
    crs: str = PROJECTED_CRS
    max_upload_bytes: int = 50 * 1024 * 1024
    max_uncompressed_bytes: int = 300 * 1024 * 1024
    max_member_bytes: int = 200 * 1024 * 1024
    max_rows: int = 500_000
    max_cells: int = 10_000_000
    max_json_depth: int = 64
    max_feed_bytes: int = 4 * 1024**3
    max_osm_bytes: int = 4 * 1024**3
    snap_max_m: float = 500.0
    online: bool = True
    default_thresholds_km: tuple[float, ...] = field(default=(5.0, 10.0, 15.0))
    database_url: str | None = None
    tiles: str = "auto"
    tiles_dir: Path | None = None
    upload_max_age_hours: float = 7 * 24.0
    network_tile_bytes: int = 64 * 1024 * 1024
    network_tile_minutes: float = 30.0
    #: Who answers accessibility feedback (BITV NRW), e.g. an e-mail address; set by the operator.
    feedback_contact: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from ``INTEGRATIONSATLAS_*`` environment variables.

        ``INTEGRATIONSATLAS_HOME`` moves the store and cache;
        ``INTEGRATIONSATLAS_OFFLINE=1`` disables online sources;
        ``INTEGRATIONSATLAS_DATABASE_URL=postgresql://…`` keeps the data store
        in PostgreSQL/PostGIS; ``INTEGRATIONSATLAS_TILES_DIR`` names local
        raster tiles (folder or ``.mbtiles``; checked when a map is drawn);
        ``INTEGRATIONSATLAS_FEEDBACK_CONTACT`` names who answers accessibility
        feedback (shown on the page »Barrierefreiheit«).
        """
        base = cls()
        home = os.environ.get("INTEGRATIONSATLAS_HOME")
        if home:
            base = replace(
                base,
                store_path=Path(home) / "store.gpkg",
                cache_dir=Path(home) / "cache",
            )
        if os.environ.get("INTEGRATIONSATLAS_OFFLINE", "") not in ("", "0"):
            base = replace(base, online=False)
        url = os.environ.get("INTEGRATIONSATLAS_DATABASE_URL", "").strip()
        if url:
            base = replace(base, database_url=url)
        tiles = os.environ.get("INTEGRATIONSATLAS_TILES", "").strip().lower()
        if tiles:
            if tiles not in ("off", "auto", "on"):
                raise DataError(f"INTEGRATIONSATLAS_TILES={tiles!r} ist ungültig: erlaubt sind off, auto oder on.")
            base = replace(base, tiles=tiles)
        tiles_dir = os.environ.get("INTEGRATIONSATLAS_TILES_DIR", "").strip()
        if tiles_dir:
            base = replace(base, tiles_dir=Path(tiles_dir).expanduser())
        contact = os.environ.get("INTEGRATIONSATLAS_FEEDBACK_CONTACT", "").strip()
        if contact:
            base = replace(base, feedback_contact=contact)
        max_age = os.environ.get("INTEGRATIONSATLAS_UPLOAD_MAX_AGE_HOURS", "").strip()
        if max_age:
            try:
                hours = float(max_age)
            except ValueError:
                hours = -1.0
            if not hours > 0:
                raise DataError(
                    f"INTEGRATIONSATLAS_UPLOAD_MAX_AGE_HOURS={max_age!r} ist ungültig: "
                    "erwartet wird eine Stundenzahl größer als 0, z. B. 168 für eine Woche."
                )
            base = replace(base, upload_max_age_hours=hours)
        return base

    def with_home(self, home: Path) -> Settings:
        """Return a copy whose store and cache live under ``home``."""
        return replace(self, store_path=home / "store.gpkg", cache_dir=home / "cache")
