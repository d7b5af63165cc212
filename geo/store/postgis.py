"""The data store in PostgreSQL/PostGIS, for a multi-user server.

Same behaviour and public API as the GeoPackage :class:`~geo.store.DataStore`
(:meth:`PostgisStore.write_layer`, :meth:`~PostgisStore.read_layer`,
:meth:`~PostgisStore.batches`, :meth:`~PostgisStore.deactivate`,
:meth:`~PostgisStore.restore` ...), chosen by :func:`geo.store.open_store`
when ``Settings.database_url`` is set.

Layout (created and upgraded by :func:`ensure_schema`, see :data:`MIGRATIONS`):

``atlas_schema_version``
    one row per applied migration (the schema version is the highest);
``atlas_batches``
    one row per import/fetch batch (``batch_id`` is the primary key);
``atlas_features``
    the rows of every batch: ``(batch_id, seq)`` primary key, the attributes
    as JSONB and the geometry as PostGIS ``geometry`` in EPSG:25832;
``atlas_scenarios``, ``atlas_scenario_sites``
    saved siting plans (:mod:`geo.store.scenarios`), with a ``version``
    column for optimistic concurrency;
``atlas_cache``
    cached results shared by all app processes (:mod:`geo.store.result_cache`).

Every write is **one** transaction: the feature rows and the batch row are
committed together, so a killed or failed import leaves nothing behind (no
orphan cleanup is needed, unlike the GeoPackage). Ids are unique by
constraint: two writers of the same id cannot both succeed.

Access goes through SQLAlchemy 2 (engine, pooled connections, transactions)
with the psycopg 3 driver; geometry columns are declared with GeoAlchemy2.

**A lost connection, at any point.** Every engine of :func:`engine_for` turns
a failed connect or a connection lost in the middle of a statement – server
down, restarted, network gone – into
:class:`~geo.errors.DatabaseUnavailableError` with a German message (one
``handle_error`` hook, so the store, the scenarios and the result cache all
say the same); the app shows it with a retry button, the CLI exits 2. Reads
are retried with backoff first (:func:`retry_reads`), so a server restart of a
few seconds goes unnoticed; writes are not, because a transaction whose
connection broke is rolled back by the server, and the user decides.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, ParamSpec, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import ExceptionContext

from geo.access import DELETE
from geo.errors import DatabaseUnavailableError, DataError, IntegrationsatlasError
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS
from geo.store import audit
from geo.store.conflicts import duplicate_batch
from geo.store.datastore import (
    BATCHES_TABLE,
    BatchInfo,
    DuplicateIdError,
    Mode,
    check_layer_frame,
    new_batch_id,
    restore_dtypes,
)
from geo.store.grants import denied, protected_layer, require
from geo.store.server_schema import SERVER_MIGRATION

logger = logging.getLogger(__name__)

FEATURES_TABLE: Final = "atlas_features"
SCHEMA_TABLE: Final = "atlas_schema_version"
#: EPSG code of every stored geometry.
SRID: Final = 25832
#: Key of the advisory lock that serialises schema migrations.
_MIGRATION_LOCK: Final = 0x41544C53  # "ATLS"

#: Forward migrations: (version, statements). Never edit an applied one; append.
MIGRATIONS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (
        1,
        (
            f"""CREATE TABLE {BATCHES_TABLE} (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            batch_id TEXT PRIMARY KEY,
            layer_id TEXT NOT NULL,
            source_file TEXT NOT NULL,
            source TEXT NOT NULL,
            licence TEXT NOT NULL,
            url TEXT,
            imported_at TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('append', 'replace')),
            rows_in INTEGER NOT NULL,
            rows_kept INTEGER NOT NULL,
            rows_rejected INTEGER NOT NULL,
            active BOOLEAN NOT NULL,
            dtypes TEXT NOT NULL)""",
            f"CREATE INDEX {BATCHES_TABLE}_layer ON {BATCHES_TABLE} (layer_id, active)",
            f"""CREATE TABLE {FEATURES_TABLE} (
            batch_id TEXT NOT NULL REFERENCES {BATCHES_TABLE} (batch_id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            properties JSONB NOT NULL,
            geom geometry(Geometry, {SRID}),
            PRIMARY KEY (batch_id, seq))""",
            f"CREATE INDEX {FEATURES_TABLE}_geom ON {FEATURES_TABLE} USING GIST (geom)",
            """CREATE TABLE atlas_scenarios (
            name TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            area_ags TEXT NOT NULL,
            model TEXT NOT NULL,
            n_sites INTEGER NOT NULL,
            schema_version INTEGER NOT NULL,
            payload TEXT NOT NULL)""",
            f"""CREATE TABLE atlas_scenario_sites (
            scenario TEXT NOT NULL REFERENCES atlas_scenarios (name) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            candidate_id TEXT NOT NULL,
            source TEXT,
            name TEXT,
            gemeinde_ags TEXT,
            kreis_ags TEXT,
            fixed BOOLEAN NOT NULL,
            sel_order INTEGER,
            marginal_gain DOUBLE PRECISION,
            geom geometry(Point, {SRID}) NOT NULL,
            PRIMARY KEY (scenario, seq))""",
        ),
    ),
    (
        2,
        (
            # optimistic concurrency: overwriting a scenario checks the version it was loaded with
            "ALTER TABLE atlas_scenarios ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        ),
    ),
    (
        3,
        (
            # cached results shared by all app processes (street networks ...), see geo.store.result_cache
            """CREATE TABLE atlas_cache (
            key TEXT PRIMARY KEY,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            payload BYTEA NOT NULL)""",
        ),
    ),
    (
        4,
        (
            # provenance that survives the import: publisher and the data's own reference date (Stichtag)
            f"ALTER TABLE {BATCHES_TABLE} ADD COLUMN publisher TEXT NOT NULL DEFAULT ''",
            f"ALTER TABLE {BATCHES_TABLE} ADD COLUMN as_of TEXT",
        ),
    ),
    # a server with login: audit log, privacy aggregation, row-level security (geo.store.server_schema);
    (5, SERVER_MIGRATION),
)
#: The schema version this code expects.
SCHEMA_VERSION: Final = MIGRATIONS[-1][0]

_meta = MetaData()
batches_table = Table(
    BATCHES_TABLE,
    _meta,
    Column("seq", BigInteger),
    Column("batch_id", Text, primary_key=True),
    Column("layer_id", Text),
    Column("source_file", Text),
    Column("source", Text),
    Column("licence", Text),
    Column("url", Text),
    Column("imported_at", Text),
    Column("mode", Text),
    Column("rows_in", Integer),
    Column("rows_kept", Integer),
    Column("rows_rejected", Integer),
    Column("active", Boolean),
    Column("dtypes", Text),
    Column("publisher", Text),
    Column("as_of", Text),
)
features_table = Table(
    FEATURES_TABLE,
    _meta,
    Column("batch_id", Text, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("properties", JSONB),
    Column("geom", Geometry(srid=SRID, spatial_index=False)),
)

_ENGINES: dict[str, Engine] = {}
_MIGRATED: set[str] = set()
_LOCK = threading.Lock()
#: Seconds to wait for a connection to the server (an unreachable host must not hang a page).
CONNECT_TIMEOUT_S: Final = 10
#: Waits (seconds) before the retries of a read whose connection failed.
READ_RETRY_WAITS_S: Final = (0.5, 1.5)
#: SQLSTATEs of a lost server: connection exceptions (class 08) and shutdowns (57P01–57P03).
_LOST_SQLSTATES: Final = ("08", "57P01", "57P02", "57P03")

P = ParamSpec("P")
R = TypeVar("R")


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a ``postgresql://`` URL (psycopg 3 driver).

    >>> sqlalchemy_url("postgresql://atlas@db:5432/atlas")
    'postgresql+psycopg://atlas@db:5432/atlas'
    """
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise IntegrationsatlasError(
        f"INTEGRATIONSATLAS_DATABASE_URL »{_redact(url)}« ist keine PostgreSQL-Adresse: "
        "erwartet wird postgresql://benutzer:passwort@host:5432/datenbank."
    )


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def connection_lost(ctx: ExceptionContext) -> bool:
    """Whether a database error means the server is unreachable or the connection broke (not a bad statement)."""
    if ctx.is_disconnect:
        return True
    orig = ctx.original_exception
    if not isinstance(orig, psycopg.OperationalError):
        return False
    state = orig.sqlstate
    return state is None or state.startswith(_LOST_SQLSTATES)


def unavailable(location: str, reason: object) -> DatabaseUnavailableError:
    """The German message of a lost database connection (what happened, what is kept, what to do)."""
    first = str(reason).strip().splitlines()[0] if str(reason).strip() else "keine Antwort"
    return DatabaseUnavailableError(
        f"Die Datenbank {location} ist nicht erreichbar oder die Verbindung ist abgebrochen ({first}). "
        "Bereits Gespeichertes bleibt erhalten; eine Änderung, die gerade gespeichert werden sollte, wird ganz "
        "oder gar nicht übernommen – nach dem erneuten Versuch bitte nachsehen, ob sie da ist. Bitte in einigen "
        "Sekunden erneut versuchen; bleibt der Fehler, den PostgreSQL-Dienst und INTEGRATIONSATLAS_DATABASE_URL "
        "prüfen."
    )


def _on_error(location: str) -> Callable[[ExceptionContext], BaseException | None]:
    def handle(ctx: ExceptionContext) -> BaseException | None:
        if connection_lost(ctx):
            logger.warning("Datenbank %s: Verbindung verloren (%s)", location, ctx.original_exception)
            return unavailable(location, ctx.original_exception)
        return None

    return handle


def retry_reads(method: Callable[P, R]) -> Callable[P, R]:
    """Retry a read that lost its database connection, after :data:`READ_RETRY_WAITS_S`; then raise."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for wait in READ_RETRY_WAITS_S:
            try:
                return method(*args, **kwargs)
            except DatabaseUnavailableError:
                time.sleep(wait)
        return method(*args, **kwargs)

    return wrapper


def engine_for(url: str) -> Engine:
    """The (process-wide, pooled) engine of ``url``, with the schema up to date.

    A lost connection on this engine raises :class:`~geo.errors.DatabaseUnavailableError`
    (see the module notes).
    """
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = create_engine(
                sqlalchemy_url(url),
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                pool_timeout=60,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            )
            event.listen(engine, "handle_error", _on_error(_redact(url)))
            _ENGINES[url] = engine
            audit.attach(engine)  # every connection carries who acts (read by the audit trigger)
        if url not in _MIGRATED:
            ensure_schema(engine)
            _MIGRATED.add(url)
    return engine


def dispose_engines() -> None:
    """Close all pooled connections (tests, before dropping a database)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        _MIGRATED.clear()


def schema_version(con: Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    # only create when missing: a role's database user may not create tables (server with login)
    if con.execute(text("SELECT to_regclass(:t)"), {"t": SCHEMA_TABLE}).scalar_one() is None:
        con.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        )
    return int(con.execute(text(f"SELECT coalesce(max(version), 0) FROM {SCHEMA_TABLE}")).scalar_one())


def ensure_schema(engine: Engine, *, target: int = SCHEMA_VERSION) -> int:
    """Apply the missing forward migrations up to ``target``, in one transaction.

    An advisory lock serialises concurrent starts (two app processes); each
    migration is recorded in :data:`SCHEMA_TABLE`.

    Returns
    -------
    int
        The schema version afterwards.

    Raises
    ------
    DataError
        If the database is unreachable, lacks PostGIS, or is newer than this code.
    """
    try:
        with engine.begin() as con:
            con.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            _ensure_postgis(con)
            current = schema_version(con)
            if current > SCHEMA_VERSION:
                raise DataError(
                    f"Die Datenbank hat Schema-Version {current}, dieses Programm kennt nur bis "
                    f"{SCHEMA_VERSION}. Bitte das Programm aktualisieren."
                )
            for version, statements in MIGRATIONS:
                if current < version <= target:
                    for sql in statements:
                        con.execute(text(sql))
                    con.execute(text(f"INSERT INTO {SCHEMA_TABLE} (version) VALUES (:v)"), {"v": version})
                    logger.info("database schema migrated to version %d", version)
                    current = version
            return current
    except sa_exc.OperationalError as exc:
        raise DataError(
            f"Datenbank {_redact(str(engine.url.render_as_string(hide_password=True)))} nicht erreichbar "
            f"({exc.orig}). INTEGRATIONSATLAS_DATABASE_URL und den PostgreSQL-Dienst prüfen."
        ) from exc


def _ensure_postgis(con: Connection) -> None:
    if con.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first():
        return
    try:
        with con.begin_nested():
            con.execute(text("CREATE EXTENSION postgis"))
    except sa_exc.DBAPIError as exc:
        raise DataError(
            "In der Datenbank fehlt die Erweiterung PostGIS und dieser Benutzer darf sie nicht anlegen "
            f"({exc.orig}). Als Administrator »CREATE EXTENSION postgis;« ausführen."
        ) from exc


def _insert_features(con: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert feature rows (a separate step so tests can interrupt a write here)."""
    con.execute(
        text(
            f"INSERT INTO {FEATURES_TABLE} (batch_id, seq, properties, geom) "
            f"VALUES (:batch_id, :seq, CAST(:properties AS jsonb), ST_GeomFromWKB(:wkb, {SRID}))"
        ),
        rows,
    )


class PostgisStore:
    """Imported and fetched layers in PostgreSQL/PostGIS, written in batches.

    Parameters
    ----------
    url
        ``postgresql://user:password@host:port/database``; the PostGIS
        extension must exist or be creatable by this user.

    Notes
    -----
    All geometries are stored in EPSG:25832 (metres); writes in any other
    CRS are refused with :class:`~geo.errors.CRSError`.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)

    def __repr__(self) -> str:
        return f"PostgisStore({_redact(self.url)!r})"

    @property
    def location(self) -> str:
        """Where the data lives, for messages (password hidden)."""
        return _redact(self.url)

    def exists(self) -> bool:
        """Always ``True``: the database is there (the schema is created on connect)."""
        return True

    # --- writing ------------------------------------------------------------

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
        """Store ``gdf`` as a new batch of layer ``layer_id``, in one transaction.

        Same parameters, result and errors as :meth:`geo.store.DataStore.write_layer`;
        with ``unique_column`` the values already held by an active batch of the
        layer are refused (:class:`~geo.store.datastore.DuplicateIdError`) inside
        the same transaction, which first takes a per-layer advisory lock, so two
        concurrent imports of the same ids cannot both succeed.

        Notes
        -----
        Geometries are stored in EPSG:25832 (metres). The feature rows, the
        batch row and (for ``replace``) the deactivation of earlier batches
        commit together or not at all; a duplicate batch id is refused by the
        primary key.
        """
        frame, dtypes = check_layer_frame(layer_id, gdf, mode)
        now = datetime.now(UTC)
        batch_id = new_batch_id(now)
        info = BatchInfo(
            batch_id=batch_id,
            layer_id=layer_id,
            source_file=str(source_file),
            source=str(source),
            licence=str(licence),
            url=url,
            imported_at=now.isoformat(timespec="seconds"),
            mode=mode,
            rows_in=int(rows_in if rows_in is not None else len(frame) + rows_rejected),
            rows_kept=len(frame),
            rows_rejected=int(rows_rejected),
            active=True,
            publisher=str(publisher or ""),
            as_of=as_of or None,
        )
        attrs = frame.drop(columns=["geometry"])
        lines = attrs.to_json(orient="records", lines=True, force_ascii=False, date_format="iso") if len(attrs) else ""
        # one JSON object per line; JSON escapes newlines inside strings, so "\n" splits records
        props = lines.rstrip("\n").split("\n") if len(attrs.columns) and len(attrs) else ["{}"] * len(frame)
        wkb = shapely.to_wkb(frame.geometry.to_numpy())
        rows = [
            {"batch_id": batch_id, "seq": i, "properties": p, "wkb": g}
            for i, (p, g) in enumerate(zip(props, wkb, strict=True))
        ]
        try:
            with self.engine.begin() as con:
                if unique_column and unique_column in frame.columns and len(frame):
                    con.execute(text("SELECT pg_advisory_xact_lock(hashtext(:l))"), {"l": f"atlas:{layer_id}"})
                    values = sorted({str(v) for v in frame[unique_column].dropna()})
                    clash = (
                        con.execute(
                            text(
                                f"SELECT DISTINCT f.properties ->> :c FROM {FEATURES_TABLE} f "
                                f"JOIN {BATCHES_TABLE} b ON b.batch_id = f.batch_id "
                                "WHERE b.layer_id = :l AND b.active AND (f.properties ->> :c) = ANY(:v)"
                            ),
                            {"c": unique_column, "l": layer_id, "v": values},
                        )
                        .scalars()
                        .all()
                    )
                    if clash:
                        raise DuplicateIdError(layer_id, unique_column, sorted(str(x) for x in clash))
                con.execute(
                    text(
                        f"INSERT INTO {BATCHES_TABLE} (batch_id, layer_id, source_file, source, licence, url, "
                        "imported_at, mode, rows_in, rows_kept, rows_rejected, active, dtypes, publisher, as_of) "
                        "VALUES (:batch_id, :layer_id, :source_file, :source, :licence, :url, :imported_at, :mode, "
                        ":rows_in, :rows_kept, :rows_rejected, true, :dtypes, :publisher, :as_of)"
                    ),
                    {**info.as_dict(), "dtypes": json.dumps(dtypes)},
                )
                if rows:
                    _insert_features(con, rows)
                if mode == "replace":
                    con.execute(
                        text(
                            f"UPDATE {BATCHES_TABLE} SET active = false "
                            "WHERE layer_id = :l AND active AND batch_id <> :b"
                        ),
                        {"l": layer_id, "b": batch_id},
                    )
        except sa_exc.IntegrityError as exc:
            raise duplicate_batch(layer_id, batch_id) from exc
        except sa_exc.DBAPIError as exc:
            refusal = denied(exc)  # a role without the import grant: say so, not the database's English
            if refusal is not None:
                raise refusal from exc
            raise DataError(
                f"Ebene »{layer_id}« konnte nicht in der Datenbank {self.location} gespeichert werden "
                f"({exc.orig}). Der Datenspeicher ist unverändert."
            ) from exc
        logger.info("stored %d rows of %s as batch %s (%s) in PostGIS", len(frame), layer_id, batch_id, mode)
        return info

    def deactivate(self, batch_id: str) -> bool:
        """ "Delete" batch ``batch_id`` (restorable); ``False`` if already deleted."""
        return self._set_active(batch_id, False)

    def restore(self, batch_id: str) -> bool:
        """Make batch ``batch_id`` active again; ``False`` if it already was."""
        return self._set_active(batch_id, True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction, for other modules' tables.

        Commits on normal exit and rolls back on an exception.

        Yields
        ------
        sqlalchemy.Connection
            Use ``con.execute(sqlalchemy.text(...), params)``; do not commit.
        """
        with self.engine.begin() as con:
            yield con

    def result_cache(self) -> ResultCache:
        """The cache of results shared by every process using this database (:mod:`geo.store.result_cache`)."""
        return ResultCache(self.url)

    @retry_reads
    def state_token(self) -> str:
        """A short string that changes with every import, delete/restore and scenario save.

        Used to invalidate the per-process result caches of the app when
        another process (another app server, the CLI) changed the database.
        """
        with self.engine.connect() as con:
            token = con.execute(
                text(
                    f"SELECT md5(coalesce((SELECT string_agg(batch_id || ':' || active::int, ',' ORDER BY batch_id) "
                    f"FROM {BATCHES_TABLE}), '') || '|' || coalesce((SELECT string_agg(name || ':' || version, ',' "
                    "ORDER BY name) FROM atlas_scenarios), ''))"
                )
            ).scalar_one()
        return f"pg:{str(token)[:16]}"

    # --- reading ------------------------------------------------------------

    @retry_reads
    def read_layer(self, layer_id: str) -> gpd.GeoDataFrame | None:
        """All active batches of ``layer_id`` in one GeoDataFrame (or ``None``).

        Same result as :meth:`geo.store.DataStore.read_layer`: rows of the
        active batches, oldest first, with ``batch_id`` and the stored dtypes.

        Raises
        ------
        DataError
            If an active batch's rows are incomplete.

        Notes
        -----
        CRS is EPSG:25832 (metres).
        """
        protected = protected_layer(self.engine, layer_id)  # sensitive layer, no exact access: the aggregate
        if protected is not None:
            return protected
        with self.engine.connect().execution_options(isolation_level="REPEATABLE READ") as con, con.begin():
            metas = con.execute(
                select(batches_table.c.batch_id, batches_table.c.dtypes, batches_table.c.rows_kept)
                .where(batches_table.c.layer_id == layer_id, batches_table.c.active)
                .order_by(batches_table.c.seq)
            ).all()
            # all rows of the active batches in one query (not one per batch: a layer may have thousands)
            rows = con.execute(
                select(features_table.c.batch_id, features_table.c.properties, func.ST_AsBinary(features_table.c.geom))
                .join(batches_table, batches_table.c.batch_id == features_table.c.batch_id)
                .where(batches_table.c.layer_id == layer_id, batches_table.c.active)
                .order_by(batches_table.c.seq, features_table.c.seq)
            ).all()
        if not metas:
            return None
        counts = Counter(r[0] for r in rows)
        for meta in metas:
            if counts[meta.batch_id] != meta.rows_kept:
                raise DataError(
                    f"Datenbank {self.location}: Stapel {meta.batch_id} (Ebene »{layer_id}«) ist unvollständig "
                    f"({counts[meta.batch_id]} von {meta.rows_kept} Zeilen). Stapel mit »integrationsatlas store "
                    f"delete {meta.batch_id}« deaktivieren oder erneut importieren."
                )
        parts = []
        start = 0
        # consecutive batches with the same stored dtypes become one frame (usually the whole layer)
        for dtypes_json, run in itertools.groupby(metas, key=lambda m: m.dtypes or "{}"):
            n = sum(m.rows_kept for m in run)
            chunk = rows[start : start + n]
            start += n
            dtypes = json.loads(dtypes_json)
            attrs = pd.DataFrame.from_records([r[1] for r in chunk], columns=list(dtypes))
            geoms = shapely.from_wkb(np.asarray([None if r[2] is None else bytes(r[2]) for r in chunk], dtype=object))
            part = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, crs=PROJECTED_CRS), crs=PROJECTED_CRS)
            part = restore_dtypes(part, dtypes)
            part["batch_id"] = [r[0] for r in chunk]
            parts.append(part)
        gdf = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=PROJECTED_CRS)
        return ensure_projected(gdf, f"Datenspeicher/{layer_id}")

    @retry_reads
    def batches(self, layer_id: str | None = None) -> list[BatchInfo]:
        """Metadata of all batches (also inactive ones), newest first."""
        c = batches_table.c
        query = select(
            c.batch_id,
            c.layer_id,
            c.source_file,
            c.source,
            c.licence,
            c.url,
            c.imported_at,
            c.mode,
            c.rows_in,
            c.rows_kept,
            c.rows_rejected,
            c.active,
            c.publisher,
            c.as_of,
        ).order_by(c.seq.desc())
        if layer_id is not None:
            query = query.where(c.layer_id == layer_id)
        with self.engine.connect() as con:
            rows = con.execute(query).all()
        return [
            BatchInfo(
                *r[:8],
                rows_in=int(r[8]),
                rows_kept=int(r[9]),
                rows_rejected=int(r[10]),
                active=bool(r[11]),
                publisher=str(r[12] or ""),
                as_of=r[13] or None,
            )
            for r in rows
        ]

    def layer_meta(self, layer_id: str) -> BatchInfo | None:
        """The newest active batch of ``layer_id``, or ``None``."""
        return next((b for b in self.batches(layer_id) if b.active), None)

    @retry_reads
    def layer_ids(self) -> list[str]:
        """Ids of the layers that have active data, sorted."""
        with self.engine.connect() as con:
            rows = con.execute(
                text(f"SELECT DISTINCT layer_id FROM {BATCHES_TABLE} WHERE active ORDER BY layer_id")
            ).all()
        return [r[0] for r in rows]

    def _set_active(self, batch_id: str, active: bool) -> bool:
        with self.engine.begin() as con:
            require(con, DELETE, "Importe löschen oder wiederherstellen")
            row = con.execute(
                text(f"SELECT active FROM {BATCHES_TABLE} WHERE batch_id = :b FOR UPDATE"), {"b": batch_id}
            ).first()
            if row is None:
                raise IntegrationsatlasError(
                    f"Stapel »{batch_id}« nicht gefunden. Vorhandene Stapel zeigt »integrationsatlas store list«."
                )
            if bool(row[0]) == active:
                return False
            con.execute(
                text(f"UPDATE {BATCHES_TABLE} SET active = :a WHERE batch_id = :b"), {"a": active, "b": batch_id}
            )
        logger.info("batch %s %s", batch_id, "restored" if active else "deactivated")
        return True


# --- the shared result cache (used through geo.store.result_cache) ---------------------

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
