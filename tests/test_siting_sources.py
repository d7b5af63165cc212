"""Candidate inputs of the siting workflow: stops thinned, automatic grid, settled land, plans that never fail."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import box

from geo.layers.loading import load_layer
from geo.settings import Settings
from integrationsatlas.cli import main
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec
from integrationsatlas.siting import plan_sites
from integrationsatlas.siting_sources import MAX_STOP_CANDIDATES, auto_grid_spacing, settled_points, thin_stops

X0, Y0 = 300_000.0, 5_650_000.0


def test_thin_stops_keeps_rail_and_tram_and_thins_buses() -> None:
    rng = np.random.default_rng(0)
    n_bus = 3000
    xy = rng.uniform(0, 20_000, size=(n_bus + 2, 2))
    stops = gpd.GeoDataFrame(
        {"modus": ["bahn", "tram_ubahn", *["bus"] * n_bus]},
        geometry=gpd.points_from_xy(X0 + xy[:, 0], Y0 + xy[:, 1]),
        crs="EPSG:25832",
    )
    out = thin_stops(stops, max_points=200)
    assert len(out) <= 200
    assert {"bahn", "tram_ubahn"} <= set(out["modus"])
    assert (out["modus"] == "bus").sum() > 50  # thinned, not dropped
    small = stops.head(10)
    assert len(thin_stops(small)) == 10 and MAX_STOP_CANDIDATES >= 100


def test_auto_grid_spacing_is_half_the_reach_and_bounded() -> None:
    assert auto_grid_spacing(box(0, 0, 10_000, 10_000), 5000.0) == 2500.0
    assert auto_grid_spacing(box(0, 0, 10_000, 10_000), 100.0) == 250.0
    # a Kreis-sized area never gets more than about 2500 grid points
    big = box(0, 0, 60_000, 60_000)
    assert (60_000 / auto_grid_spacing(big, 300.0)) ** 2 <= 2500 + 1


def test_settled_points_without_extract_are_places_and_populated_demand() -> None:
    demand = gpd.GeoDataFrame(
        {"weight": [5.0, 0.0]}, geometry=gpd.points_from_xy([X0, X0 + 9], [Y0, Y0]), crs="EPSG:25832"
    )
    places = gpd.GeoDataFrame({"name": ["Brand"]}, geometry=gpd.points_from_xy([X0 + 50], [Y0]), crs="EPSG:25832")
    xy, max_m, note = settled_points(Settings(), None, demand, places)
    assert xy.tolist() == [[X0, Y0], [X0 + 50, Y0]] and max_m == 1000.0 and note == ""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(home))
    return home


def test_default_candidates_on_a_kreis_give_named_sites_near_places(home: Path) -> None:
    settings = Settings().with_home(home)
    spec = SitingSpec(p=5, keep_existing=False, sensitivity_ps=())
    plan = plan_sites(settings, AnalysisRequest("ankommenstreffpunkt", 5.0, area=AreaRef("05334"), siting=spec))
    sites = plan.explanation.sites
    assert len(sites) >= 1 and all(s.gain > 0 for s in sites)
    assert not any(s.name.startswith(("Raster", "Clusterzentrum")) for s in sites)
    assert "Haltestelle" in set(plan.candidates["source"])
    # every new site lies within 1 km of a GeoNames place or a populated demand point (no empty fields)
    orte = load_layer("orte", settings)
    ref = np.vstack(
        [shapely.get_coordinates(orte.geometry.to_numpy()), shapely.get_coordinates(plan.demand.geometry.to_numpy())]
    )
    new = plan.sites[~plan.sites["fixed"]]
    dist, _ = cKDTree(ref).query(shapely.get_coordinates(new.geometry.to_numpy()))
    assert (dist <= 1000.0).all(), dist
    total = plan.equity.set_index("gemeinde_ags").loc["Gesamt"]
    assert total["beyond_after"] == pytest.approx(1.0 - plan.explanation.share_after)


def test_nothing_left_to_cover_gives_fewer_sites_and_says_so(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 40 km around any site reaches the whole Städteregion: one site covers everyone, four would add 0
    code = main(
        ["sites", "--area", "05334", "-p", "5", "--radius-km", "40", "--fixed-layer", "", "--no-sensitivity", "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    plan = json.loads(out)
    s = plan["summary"]
    assert s["n_new"] == 1 and s["n_requested"] == 5 and s["share_after"] == pytest.approx(1.0)
    assert s["shortfall"].startswith("Nur 1 neuen Standort statt 5")
    assert "Abhilfe" in s["shortfall"] and s["shortfall"] in plan["notes"]
    assert all(site["marginal_gain"] > 0 for site in plan["sites"])


@pytest.mark.parametrize("model", ["mclp", "lscp", "pmedian"])
def test_coverage_curve_has_an_x_value_for_every_model(home: Path, model: str) -> None:
    from ui.pages.standort import curve_data

    settings = Settings().with_home(home)
    plan = plan_sites(
        settings,
        AnalysisRequest(
            "ankommenstreffpunkt",
            6.0,
            area=AreaRef("05334"),
            siting=SitingSpec(
                model=model, p=2, keep_existing=False, sensitivity_ps=None if model == "lscp" else (1, 2, 3)
            ),
        ),
    )
    data = curve_data(plan.sensitivity)
    assert len(data) >= 1 and data.notna().all().all()
    assert (data["neue_standorte"] >= 1).all() and data["versorgt_pct"].between(0, 100).all()
    if model == "mclp":
        assert data["versorgt_pct"].is_monotonic_increasing
