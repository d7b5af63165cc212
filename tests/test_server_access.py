"""Roles enforced by the database: grants, row-level security on sensitive layers, the audit log.

Every test runs against a fresh PostGIS database owned by a non-superuser and
set up for the three database users ``atlas_planung``, ``atlas_rat`` and
``atlas_admin`` (:mod:`server_support`), so the limits checked here hold for
any client with those credentials: the app, the CLI, or psql.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import psycopg
import pytest
import shapely

from geo.access import AccessDeniedError
from geo.settings import PROJECTED_CRS
from geo.store.audit import Actor, acting_as, audit_frame, prune
from geo.store.postgis import PostgisStore, engine_for

if TYPE_CHECKING:
    from server_support import ServerDb

pytest_plugins = ("store_backends", "server_support")

#: Synthetic accommodation (EPSG:25832, Aachen): three in one 500 m cell, two alone elsewhere.
CELL_X, CELL_Y = 294_000.0, 5_628_000.0  # a cell corner (multiples of 500 m)
XY = [
    (CELL_X + 60.3, CELL_Y + 110.7),
    (CELL_X + 240.9, CELL_Y + 330.1),
    (CELL_X + 420.2, CELL_Y + 80.6),
    (CELL_X + 2_130.4, CELL_Y + 1_470.8),
    (CELL_X + 3_910.6, CELL_Y - 2_250.3),
]
AACHEN = "05334002"


def accommodation(n: int = len(XY), prefix: str = "u") -> gpd.GeoDataFrame:
    """Synthetic accommodation points (not real addresses)."""
    x, y = np.array(XY[:n]).T
    return gpd.GeoDataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "name": [f"Unterkunft {prefix}{i}" for i in range(n)],
            "kapazitaet": [10 * (i + 1) for i in range(n)],
            "gemeinde_ags": [AACHEN] * n,
            "kreis_ags": ["05334"] * n,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=PROJECTED_CRS,
    )


def kitas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["k1"], "name": ["Kita Mitte"]},
        geometry=gpd.points_from_xy([295_000.0], [5_629_000.0]),
        crs=PROJECTED_CRS,
    )


def write(db: ServerDb, role: str, layer: str, frame: gpd.GeoDataFrame, mode: str = "append") -> str:
    with acting_as(Actor(f"{role}@kreis.example", role, {"test": "yes"})):
        info = PostgisStore(db.url(role)).write_layer(
            layer, frame, mode=mode, source_file=f"{layer}.csv", source="import", licence="-"
        )  # type: ignore[arg-type]
    return info.batch_id


def sql(url: str, query: str) -> list[tuple[object, ...]]:
    """Run one statement with psycopg directly (as a client with these credentials would)."""
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(query)  # type: ignore[arg-type]
        return list(cur.fetchall()) if cur.description else []


def test_rat_cannot_read_the_exact_geometry_of_a_sensitive_layer(server_db: ServerDb) -> None:
    write(server_db, "planung", "wohnprojekt", accommodation())
    write(server_db, "planung", "kita", kitas())
    rat = server_db.url("rat")
    # direct SQL: the accommodation rows do not exist for this user; other layers do
    visible = sql(
        rat, "SELECT b.layer_id, ST_X(f.geom), ST_Y(f.geom) FROM atlas_features f JOIN atlas_batches b USING (batch_id)"
    )
    assert {r[0] for r in visible} == {"kita"}
    assert sql(rat, "SELECT count(*) FROM atlas_features")[0][0] == 1
    # ... not through the batch table, not by changing the rule, not by taking another role, not via the log
    assert sql(rat, "SELECT rows_kept FROM atlas_batches WHERE layer_id = 'wohnprojekt'") == [(5,)]
    for attack in (
        "UPDATE atlas_privacy SET cell_m = 1, k = 1",
        "DELETE FROM atlas_privacy",
        "INSERT INTO atlas_role_access VALUES ('atlas_rat', 'rat', ARRAY['exact'])",
        "ALTER TABLE atlas_features DISABLE ROW LEVEL SECURITY",
        "SET ROLE atlas_planung",
        "SELECT * FROM atlas_audit",
        "CREATE FUNCTION leak() RETURNS SETOF atlas_features LANGUAGE sql SECURITY DEFINER "
        "AS 'SELECT * FROM atlas_features'",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(rat, attack)
    # the published aggregate: one cell of 3 at its centre, the 2 others counted for the Gemeinde
    published = "SELECT level, n, capacity, ST_X(ST_GeomFromWKB(wkb)), ST_Y(ST_GeomFromWKB(wkb)) "
    rows = sql(rat, published + "FROM atlas_sensitive_aggregate('wohnprojekt')")
    assert [(r[0], r[1], r[2]) for r in rows] == [("zelle", 3, 60), ("gemeinde", 2, 90)]
    assert rows[0][3:] == (CELL_X + 250.0, CELL_Y + 250.0)
    assert all((r[3], r[4]) not in XY for r in rows)


def test_the_store_gives_roles_without_exact_access_the_aggregate(server_db: ServerDb) -> None:
    write(server_db, "planung", "wohnprojekt", accommodation())
    exact = PostgisStore(server_db.url("planung")).read_layer("wohnprojekt")
    assert exact is not None and len(exact) == 5
    assert sorted(zip(exact.geometry.x, exact.geometry.y, strict=True)) == sorted(XY)
    for role in ("rat",):
        agg = PostgisStore(server_db.url(role)).read_layer("wohnprojekt")
        assert agg is not None
        assert list(agg["anzahl"]) == [3, 2] and list(agg["kapazitaet"]) == [60, 90]
        assert agg["name"].str.contains("Unterkunft").sum() == 0  # no record's own name
        assert set(agg["location_precision"]) == {"Raster (zusammengefasst)", "Gemeinde (zusammengefasst)"}
        coords = shapely.get_coordinates(agg.geometry.to_numpy())
        assert not any(np.hypot(*(coords - p).T).min() < 50 for p in XY[:3])  # the cell centre is no point
    # the Gemeinde count is drawn at the Gemeinde's label point, whatever the points are
    label = sql(server_db.owner_url, f"SELECT ST_X(label), ST_Y(label) FROM atlas_gemeinden WHERE ags = '{AACHEN}'")
    assert tuple(coords[1]) == label[0]


def test_planung_imports_and_replaces_but_only_admin_deletes_and_restores(server_db: ServerDb) -> None:
    first = write(server_db, "planung", "kita", kitas())
    planung, admin = PostgisStore(server_db.url("planung")), PostgisStore(server_db.url("admin"))
    with pytest.raises(AccessDeniedError, match="Importe löschen"):
        planung.deactivate(first)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # also past the app: row-level security
        sql(server_db.url("planung"), f"UPDATE atlas_batches SET active = false WHERE batch_id = '{first}'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(server_db.url("rat"), f"UPDATE atlas_batches SET active = false WHERE batch_id = '{first}'")
    with pytest.raises(AccessDeniedError, match="keine Berechtigung"):  # rat imports nothing, told in German
        write(server_db, "rat", "kita", kitas())
    second = write(server_db, "planung", "kita", kitas(), mode="replace")  # replace may switch off the older
    assert [b.active for b in planung.batches("kita")] == [True, False]
    with acting_as(Actor("admin@kreis.example", "admin")):
        assert admin.deactivate(second)
        assert admin.restore(first)
    assert {b.batch_id: b.active for b in admin.batches("kita")} == {first: True, second: False}
    columns = "(name, created_at, area_ags, model, n_sites, schema_version, payload)"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(server_db.url("rat"), f"INSERT INTO atlas_scenarios {columns} VALUES ('x', '', '', '', 0, 1, '')")


def test_every_write_and_sensitive_read_is_in_the_append_only_audit_log(server_db: ServerDb) -> None:
    first = write(server_db, "planung", "wohnprojekt", accommodation(3, "a"))
    second = write(server_db, "planung", "wohnprojekt", accommodation(2, "b"), mode="replace")
    with acting_as(Actor("admin@kreis.example", "admin", {"session": "s1"})):
        PostgisStore(server_db.url("admin")).deactivate(second)
        PostgisStore(server_db.url("admin")).restore(first)
    PostgisStore(server_db.url("rat")).read_layer("wohnprojekt")  # outside the app: the store records it
    log = audit_frame(engine_for(server_db.url("admin")))
    got = list(zip(log["Person"], log["Rolle"], log["Datenbankbenutzer"], log["Aktion"], log["Stapel"], strict=True))
    me = log["Person"].iloc[-1]
    assert got == [
        ("planung@kreis.example", "planung", "atlas_planung", "Import (hinzufügen)", first),
        ("planung@kreis.example", "planung", "atlas_planung", "Import (ersetzen)", second),
        ("planung@kreis.example", "planung", "atlas_planung", "durch Import ersetzt", first),
        ("admin@kreis.example", "admin", "atlas_admin", "gelöscht", second),
        ("admin@kreis.example", "admin", "atlas_admin", "wiederhergestellt", first),
        (me, "", "atlas_rat", "geschützte Ebene geöffnet", ""),
    ]
    assert '"session": "s1"' in log["Anfrage"].iloc[3] and '"test": "yes"' in log["Anfrage"].iloc[0]
    # nobody changes or empties the log, not even the owner; recent entries are not deleted
    for url in (server_db.url("admin"), server_db.owner_url):
        for attack in ("UPDATE atlas_audit SET actor = 'x'", "TRUNCATE atlas_audit", "DELETE FROM atlas_audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                sql(url, attack)
    assert prune(engine_for(server_db.owner_url)) == 0
    # after the retention (here: set to 0 days by the owner) the old entries go
    sql(server_db.owner_url, "UPDATE atlas_settings SET value = '0' WHERE key = 'audit_retention_days'")
    assert prune(engine_for(server_db.owner_url)) == len(log)
