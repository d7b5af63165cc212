"""Saved scenarios: round trip, overwrite rules, listing, deletion and crash safety.

Every test runs on both backends (GeoPackage and PostgreSQL/PostGIS): the
``settings`` fixture below is parametrised by ``tests/store_backends.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.errors import CRSError, DataError, ValidationError
from geo.settings import PROJECT_ROOT, Settings
from geo.store.scenarios import (
    Scenario,
    delete_scenario,
    list_scenarios,
    load_scenario,
    save_scenario,
)

pytest_plugins = ("store_backends",)


@pytest.fixture
def settings(backend_settings: Settings) -> Settings:
    """Settings of a fresh store on the backend under test."""
    return backend_settings


def make_scenario(name: str = "Plan A", n_new: int = 2, version: int = 1) -> Scenario:
    n = n_new + 1
    sites = gpd.GeoDataFrame(
        {
            "candidate_id": ["bestand:t1"] + [f"cluster:{i}" for i in range(1, n)],
            "source": ["Bestehender Treffpunkt"] + ["Clusterzentrum"] * n_new,
            "name": ["Treff Mitte"] + [f"Zentrum {i}" for i in range(1, n)],
            "gemeinde_ags": ["05334002"] + ["05334004"] * n_new,
            "kreis_ags": ["05334"] * n,
            "fixed": [True] + [False] * n_new,
            "order": pd.array([pd.NA, *range(1, n)], dtype="Int64"),
            "marginal_gain": [np.nan] + [1000.0 / i for i in range(1, n)],
        },
        geometry=gpd.points_from_xy(300_000.0 + 100.0 * np.arange(n), 5_650_000.0 + np.zeros(n)),
        crs="EPSG:25832",
    )
    by_gemeinde = pd.DataFrame(
        {
            "gemeinde_ags": ["05334002", "05334004", "05334008"],
            "demand": [100.0, 50.0, 0.0],
            "share_before": [0.5, 0.0, np.nan],
            "share_after": [0.5, 0.8, np.nan],
            "sites_new": [0, n_new, 0],
            "sites_fixed": [1, 0, 0],
        }
    )
    return Scenario(
        name=name,
        area_ags="05334",
        area_name="Städteregion Aachen",
        model="mclp",
        parameters={"p": n_new, "radius_km": 2.5, "version": version},
        sites=sites,
        results={
            "objective": 123.5,
            "gap": 0.0,
            "status": "optimal",
            "share_before": 0.33,
            "share_after": 0.6,
            "version": version,
            "bound": float("inf"),
        },
        by_gemeinde=by_gemeinde,
        layers={"ankommenstreffpunkt": "2025-01-01", "ki": None},
        demand_level="GeoNames-Orte",
        target_group="foreign",
    )


def test_round_trip(settings: Settings) -> None:
    sc = make_scenario()
    save_scenario(settings, sc)
    back = load_scenario(settings, "Plan A")
    assert back.name == "Plan A" and back.area_ags == "05334" and back.area_name == "Städteregion Aachen"
    assert back.model == "mclp" and back.parameters == {"p": 2, "radius_km": 2.5, "version": 1}
    assert back.results["objective"] == 123.5 and back.results["bound"] is None  # inf is not JSON
    assert back.layers == {"ankommenstreffpunkt": "2025-01-01", "ki": None}
    assert back.demand_level == "GeoNames-Orte" and back.target_group == "foreign"
    assert back.created_at  # set on save
    assert back.sites.crs == "EPSG:25832"
    assert back.sites.geometry.equals(sc.sites.geometry)
    assert back.sites["candidate_id"].tolist() == sc.sites["candidate_id"].tolist()
    assert back.sites["fixed"].tolist() == [True, False, False]
    assert back.sites["order"].tolist()[1:] == [1, 2] and pd.isna(back.sites["order"].iloc[0])
    assert back.selected["name"].tolist() == ["Zentrum 1", "Zentrum 2"]
    assert back.fixed_sites["name"].tolist() == ["Treff Mitte"]
    pd.testing.assert_frame_equal(back.by_gemeinde, sc.by_gemeinde, check_dtype=False)
    assert back.by_gemeinde["gemeinde_ags"].tolist()[0] == "05334002"  # leading zero kept


def test_existing_name_needs_overwrite(settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    save_scenario(settings, make_scenario(version=1))
    with raises_matching(DataError, "Szenario »Plan A« gibt es schon", "überschreiben"):
        save_scenario(settings, make_scenario(version=2, n_new=5))
    assert load_scenario(settings, "Plan A").results["version"] == 1  # unchanged
    save_scenario(settings, make_scenario(version=2, n_new=5), overwrite=True)
    back = load_scenario(settings, "Plan A")
    assert back.results["version"] == 2 and len(back.sites) == 6


def test_list_and_delete(settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    assert list_scenarios(settings).empty  # no store file yet
    save_scenario(settings, make_scenario("Plan A", n_new=5))
    plan_b = make_scenario("Plan B", n_new=3)
    save_scenario(settings, replace(plan_b, results={**plan_b.results, "threshold": "2,5 km Luftlinie"}))
    table = list_scenarios(settings).set_index("name")
    assert sorted(table.index) == ["Plan A", "Plan B"]
    assert table.loc["Plan B", "threshold"] == "2,5 km Luftlinie"  # the question's measure, listed beside the name
    assert table.loc["Plan A", "n_new"] == 5 and table.loc["Plan B", "n_new"] == 3
    assert table.loc["Plan A", "n_fixed"] == 1
    assert table.loc["Plan B", "status"] == "optimal"
    delete_scenario(settings, "Plan A")
    assert list_scenarios(settings)["name"].tolist() == ["Plan B"]
    with raises_matching(DataError, "Szenario »Plan A« nicht gefunden", "Plan B"):
        load_scenario(settings, "Plan A")
    with raises_matching(DataError, "nicht gefunden"):
        delete_scenario(settings, "Plan A")


def test_unknown_name_without_store(settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(DataError, "»X« nicht gefunden", "noch kein Szenario"):
        load_scenario(settings, "X")


def test_invalid_scenario_lists_all_problems(settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]
    sc = make_scenario()
    bad_sites = sc.sites.drop(columns=["order"])
    bad_sites.loc[1, "candidate_id"] = None

    with raises_matching(ValidationError, "Szenarioname ist leer", "Spalte »order«", "Kandidaten-ID fehlt"):
        save_scenario(settings, replace(sc, name="  ", sites=bad_sites))
    with raises_matching(CRSError, "EPSG:25832"):
        save_scenario(settings, replace(sc, sites=sc.sites.to_crs("EPSG:4326")))
    assert list_scenarios(settings).empty


def test_store_keeps_layers_and_scenarios_together(settings: Settings) -> None:
    from geo.store import open_store

    store = open_store(settings)
    layer = gpd.GeoDataFrame(
        {"id": ["k1"], "name": ["Kita"]}, geometry=gpd.points_from_xy([300_000.0], [5_650_000.0]), crs="EPSG:25832"
    )
    store.write_layer("kita", layer, mode="append", source_file="k.csv", source="import", licence="CC BY 4.0")
    save_scenario(settings, make_scenario())
    assert len(open_store(settings).read_layer("kita")) == 1  # type: ignore[arg-type]
    assert load_scenario(settings, "Plan A").name == "Plan A"


# --- crash safety -------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys, time
    from dataclasses import replace
    from pathlib import Path
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    import geo.store.scenarios as scenarios
    from geo.settings import Settings
    from test_scenarios import make_scenario

    settings = replace(Settings().with_home(Path({home!r})), database_url={url!r})
    if settings.database_url:
        import geo.store.scenarios_pg as backend
    else:
        backend = scenarios
    signal_file = Path({signal_file!r})
    mode = {mode!r}
    if mode == "hang":
        original = backend._insert_sites

        def slow_insert(con, rows):
            original(con, rows[: len(rows) // 2])   # half of the sites are written ...
            signal_file.write_text("inside")
            time.sleep(120)                          # ... and the process is killed here
            original(con, rows[len(rows) // 2:])

        backend._insert_sites = slow_insert
        scenarios.save_scenario(settings, make_scenario("Plan A", n_new=400, version=2), overwrite=True)
    else:
        version = 2
        while True:
            scenarios.save_scenario(settings, make_scenario("Plan A", n_new=50 + version % 300,
                                                            version=version), overwrite=True)
            if version == 3:
                signal_file.write_text("looping")
            version += 1
""")


def _start_child(settings: Settings, tmp_path: Path, mode: str) -> tuple[subprocess.Popen[bytes], Path]:
    signal_file = tmp_path / f"signal-{mode}"
    script = tmp_path / f"child_{mode}.py"
    script.write_text(
        CHILD.format(
            root=str(PROJECT_ROOT),
            tests=str(Path(__file__).parent),
            home=str(settings.store_path.parent),
            signal_file=str(signal_file),
            mode=mode,
            url=settings.database_url,
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    return proc, signal_file


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"Kindprozess beendet: {proc.stderr.read().decode() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("Kindprozess hat das Signal nicht gesetzt")
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_inside_the_transaction_keeps_the_old_scenario(settings: Settings, tmp_path: Path) -> None:
    save_scenario(settings, make_scenario("Plan A", n_new=2, version=1))
    proc, signal_file = _start_child(settings, tmp_path, "hang")
    _wait_for(signal_file, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    back = load_scenario(settings, "Plan A")
    assert back.results["version"] == 1
    assert len(back.sites) == 3
    assert list_scenarios(settings)["name"].tolist() == ["Plan A"]
    # the store is usable afterwards
    save_scenario(settings, make_scenario("Plan A", n_new=4, version=3), overwrite=True)
    assert len(load_scenario(settings, "Plan A").sites) == 5


@pytest.mark.slow  # kills writer processes at random moments
def test_killed_at_a_random_moment_leaves_a_complete_scenario(settings: Settings, tmp_path: Path) -> None:
    save_scenario(settings, make_scenario("Plan A", n_new=2, version=1))
    rng = np.random.default_rng(7)
    for _ in range(3):
        proc, signal_file = _start_child(settings, tmp_path, "loop")
        _wait_for(signal_file, proc)
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        signal_file.unlink()
        back = load_scenario(settings, "Plan A")  # raises if sites and header disagree
        version = back.results["version"]
        assert version >= 3
        assert len(back.sites) == 1 + 50 + version % 300
        assert back.parameters["version"] == version
        assert back.selected["order"].tolist() == list(range(1, 51 + version % 300))


@pytest.mark.parametrize("name", ["", "x" * 121])
def test_bad_names(settings: Settings, name: str) -> None:

    with pytest.raises(ValidationError, match="Szenarioname"):
        save_scenario(settings, replace(make_scenario(), name=name))


def test_overwrite_detects_a_concurrent_change(settings: Settings, raises_matching) -> None:  # type: ignore[no-untyped-def]

    assert save_scenario(settings, make_scenario(version=1)) == 1
    mine, theirs = load_scenario(settings, "Plan A"), load_scenario(settings, "Plan A")
    assert mine.version == theirs.version == 1
    assert save_scenario(settings, replace(theirs, results={**theirs.results, "version": 2}), overwrite=True) == 2
    with raises_matching(
        DataError,
        "»Plan A« wurde inzwischen von jemand anderem gespeichert",
        "Version 2",
        "geladen war Version 1",
        "neu laden",
    ):
        save_scenario(settings, replace(mine, results={**mine.results, "version": 3}), overwrite=True)
    back = load_scenario(settings, "Plan A")
    assert back.results["version"] == 2 and back.version == 2  # their change is kept
    # after reloading, the change goes through; a blind overwrite (version 0: not loaded) as well
    assert save_scenario(settings, replace(back, results={**back.results, "version": 3}), overwrite=True) == 3
    assert save_scenario(settings, make_scenario(version=4), overwrite=True) == 4
    # saving a loaded scenario under a new name is a new scenario
    assert save_scenario(settings, replace(back, name="Plan B")) == 1


def test_a_comparison_names_each_gemeinde_where_names_are_known() -> None:
    # the comparison on the page and in the CLI showed the AGS alone (»05554004 0,0 % 100,0 % …«)
    from integrationsatlas.scenarios import compare_scenarios
    from ui.views import diff_table

    a, b = make_scenario("A", n_new=1), make_scenario("B", n_new=2)
    table = compare_scenarios(a, b, {"05334002": "Aachen", "05334004": "Alsdorf"})
    assert list(table.columns[:2]) == ["gemeinde_ags", "gemeinde"]
    assert dict(zip(table["gemeinde_ags"], table["gemeinde"], strict=True)) == {
        "05334002": "Aachen",
        "05334004": "Alsdorf",
        "05334008": "",
    }
    assert list(diff_table(table, "en").columns[:2]) == ["Municipality (AGS)", "Municipality"]
    assert "gemeinde" not in compare_scenarios(a, b).columns  # without names, as before


def test_every_surface_gives_the_difference_of_the_shown_shares() -> None:
    # 53,6 % → 53,8 %: the exact change is 0,14 points; the report said »+0,1 Pp.« beside these two figures
    from integrationsatlas.report.scenario import scenario_tables
    from integrationsatlas.scenarios import compare_scenarios
    from ui.views import diff_table

    a, b = make_scenario("A"), make_scenario("B")
    a = replace(a, by_gemeinde=a.by_gemeinde.assign(share_after=[0.5362, 0.8, np.nan]))
    b = replace(
        b, by_gemeinde=b.by_gemeinde.assign(share_before=[0.5362, 0.0, np.nan], share_after=[0.5376, 0.8, np.nan])
    )
    row = diff_table(compare_scenarios(a, b), "de").set_index("Gemeinde (AGS)").loc["05334002"]
    assert (row["A nachher (%)"], row["B nachher (%)"], row["B − A (Prozentpunkte)"]) == (53.6, 53.8, 0.2)
    rows = [r for t in scenario_tables(b, {}) for r in t.rows if r[0] == "05334002"]
    assert rows and rows[0][2:] == ("53,6 %", "53,8 %", "+0,2 Pp.")


def test_a_scenario_from_too_coarse_demand_is_marked_rough_in_the_report_and_the_comparison(
    settings: Settings,
) -> None:
    # Kreis Borken, KI at 10 km from Gemeinde population: »Ahaus 100,0 % → 0,0 %, −100,0 Pp« read as a result
    from integrationsatlas.report.scenario import scenario_tables
    from ui.views import compare

    message = "Auflösung zu grob für diese Frage: nur 21 Nachfrageeinheiten im Gebiet (mindestens 30 nötig)."
    coarse = {**make_scenario("grob").results, "resolution": {"ok": False, "message": message, "fix": "…"}}
    fine = {**make_scenario("fein").results, "resolution": {"ok": True, "message": "", "fix": ""}}
    rough, ok = replace(make_scenario("grob"), results=coarse), replace(make_scenario("fein"), results=fine)
    assert (rough.rough, ok.rough, make_scenario().rough) == (message, "", "")  # saved without a verdict: unmarked
    notes = {t.title: t.note for t in scenario_tables(rough, {})}
    assert any(note.endswith(f"Nur grobe Näherung: {message}") for note in notes.values())
    assert not any("grobe Näherung" in t.note for t in scenario_tables(ok, {}))
    save_scenario(settings, rough)
    save_scenario(settings, ok)
    assert compare(settings, "fein", "grob")[1]["rough"] == {"grob": message}


def test_scenarios_that_ask_different_questions_are_compared_with_a_warning(settings: Settings) -> None:
    # »Borken 5 km« against »Borken 10 km«: the difference per Gemeinde mixes the sites with the threshold
    from integrationsatlas.scenarios import question_differences
    from ui.views import compare

    five = make_scenario("5 km")
    ten = replace(make_scenario("10 km"), parameters={**five.parameters, "radius_km": 10.0})
    assert question_differences(five, ten) == ["Schwelle: A 2,5 km Luftlinie, B 10 km Luftlinie"]
    assert question_differences(five, make_scenario("wieder 2,5 km")) == []
    save_scenario(settings, five)
    save_scenario(settings, ten)
    assert compare(settings, "5 km", "10 km")[1]["question_differences"] == question_differences(five, ten)
