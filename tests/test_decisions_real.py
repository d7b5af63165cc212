"""Real data (central Aachen): costs, frontier, capacity, intervals and robust plans on the 100 m OSM estimate.

Demand: the 100 m estimate from the OSM buildings of ``../shared/data/osm/aachen.osm.pbf`` with the 2019
Destatis Gemeinde population (real). Facilities: the 94 OSM kindergartens and the community centres, libraries
and places of worship of ``aachen_osm2021_facilities.geojson`` (real points). What no offline source has is
generated and labelled where it is used: Kita places, the share of children under 6, site costs (a test
assumption, not a council's figure). Nothing of the data is committed.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from geo.settings import Settings
from planning.capacity import capacitated_coverage
from planning.costs import YEARLY, CostDefault, cost_summary, site_costs
from planning.explain import within_radius
from planning.frontier import budget_frontier
from planning.substitutes import site_margins
from planning.uncertainty import noise_kinds, resample_demand, share_interval, sum_intervals
from planning.variants import CLOSURE, Variant, VariantSet, demand_variants, evaluate_plan, robust_plan

pytestmark = [pytest.mark.shared]


@pytest.fixture(scope="module")
def aachen(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, object]:
    import os

    from integrationsatlas.cli import main
    from integrationsatlas.osm_demand import osm_demand

    pbf = shared_data / "osm" / "aachen.osm.pbf"
    population = shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv"
    facilities = shared_data / "facilities" / "aachen_osm2021_facilities.geojson"
    for path in (pbf, population, facilities):
        if not path.exists():
            pytest.skip(f"{path} fehlt")
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("INTEGRATIONSATLAS_HOME")
    os.environ["INTEGRATIONSATLAS_HOME"] = str(home)
    try:
        assert main(["population", str(population)]) == 0
        demand = osm_demand(Settings().with_home(home), pbf).points
    finally:
        if old is None:
            os.environ.pop("INTEGRATIONSATLAS_HOME", None)
        else:
            os.environ["INTEGRATIONSATLAS_HOME"] = old
    places = gpd.read_file(facilities).to_crs(25832)
    xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    return {"demand": demand, "xy": xy, "places": places}


def _points(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([frame.geometry.centroid.x, frame.geometry.centroid.y])


def _cost(xy: np.ndarray, sites: np.ndarray, radius: float) -> sp.csr_array:
    return sp.csr_array(cKDTree(xy).sparse_distance_matrix(cKDTree(sites), radius, output_type="coo_matrix"))


def test_kita_coverage_with_places_never_exceeds_coverage_without(aachen: dict) -> None:
    demand, xy, places = aachen["demand"], aachen["xy"], aachen["places"]
    kitas = places[places["amenity"] == "kindergarten"]
    assert len(kitas) == 94
    rng = np.random.default_rng(23)
    # generated: children under 6 as 5.5 % of each cell's people, places 20–80 per Kita (no offline source)
    children = rng.binomial(demand["population"].to_numpy(dtype=np.int64), 0.055).astype(float)
    free = rng.integers(20, 81, len(kitas)).astype(float)
    res = capacitated_coverage(_cost(xy, _points(kitas), 500.0), children, free, 500.0)
    assert res.covered <= res.covered_uncapacitated
    assert res.difference > 0  # the generated places bind somewhere in the city centre
    assert (res.load <= free + 1e-9).all()
    assert res.served.sum() == pytest.approx(res.covered)
    print(f"Aachen, Kitas 500 m: {res.covered:.0f} mit Platz von {res.covered_uncapacitated:.0f} in Reichweite")


def test_share_interval_of_real_kita_coverage_contains_the_figure(aachen: dict) -> None:
    demand, xy, places = aachen["demand"], aachen["xy"], aachen["places"]
    kinds = noise_kinds(demand)
    assert set(kinds) <= {"osm_estimate", "exact"} and (kinds == "osm_estimate").sum() > 2_000
    draws = resample_demand(demand["weight"], kinds, demand["gemeinde_ags"].astype(str), n_resamples=200)
    kitas = _points(places[places["amenity"] == "kindergarten"])
    covered = np.isfinite(cKDTree(kitas).query(xy, distance_upper_bound=300.0)[0])
    iv = share_interval(draws, covered)
    assert iv.low <= iv.point <= iv.high
    assert iv.high - iv.low > 0.001  # the estimate's error shows
    assert not iv.extended
    # the Gemeinde total stays the official population in every resample
    assert np.allclose(draws.draws.sum(axis=1), demand["weight"].sum(), rtol=1e-5)
    print("Aachen, Kita in 300 m:", iv.text())


def test_frontier_costs_and_committee_margins_on_real_candidates(aachen: dict) -> None:
    demand, xy, places = aachen["demand"], aachen["xy"], aachen["places"]
    cand = places[places["amenity"].isin(["community_centre", "library", "place_of_worship"])].reset_index(drop=True)
    cand["source"] = cand["amenity"]
    # a test assumption, not a council's figure: yearly cost per site type
    defaults = {
        "community_centre": CostDefault(one_off=15_000, yearly=24_000),
        "library": CostDefault(one_off=5_000, yearly=18_000),
        "place_of_worship": CostDefault(one_off=10_000, yearly=12_000),
    }
    costs = site_costs(cand, defaults=defaults)
    w = demand["weight"].to_numpy(dtype=float)
    cost = _cost(xy, _points(cand), 600.0)
    f = budget_frontier(cost, w, 600.0, YEARLY.of(costs), budgets=[24_000, 60_000, 120_000, 240_000], time_limit=60)
    assert f.all_optimal
    assert [p.covered for p in f.points] == sorted(p.covered for p in f.points)
    cov = within_radius(cost, 600.0)
    for p in f.points:
        s = cost_summary(list(p.sites), costs, cov, w)
        assert s.yearly_total <= p.budget
        assert s.newly_reached == pytest.approx(p.newly_reached)
        assert s.eur_per_newly_reached == pytest.approx(s.yearly_total / s.newly_reached)  # the check
    last = f.points[-1]
    margins = site_margins(list(last.sites), cov, w, site_cost=YEARLY.of(costs), budget=last.budget, names=cand["name"])
    assert len(margins) == len(last.sites)
    assert all(m.loss >= -1e-6 for m in margins)  # an optimal plan: no single swap reaches more
    print(margins[0].reason)


def test_robust_kita_plan_across_closures_and_demand_variants(aachen: dict) -> None:
    demand, xy, places = aachen["demand"], aachen["xy"], aachen["places"]
    kitas = places[places["amenity"] == "kindergarten"].reset_index(drop=True)
    w = demand["weight"].to_numpy(dtype=float)
    cost = _cost(xy, _points(kitas), 400.0)
    draws = resample_demand(w, noise_kinds(demand), demand["gemeinde_ags"].astype(str), n_resamples=40)
    variants = (
        *demand_variants(draws, 3),
        Variant("ohne Kita 0", CLOSURE, closed=(0,)),
        Variant("ohne Kita 1", CLOSURE, closed=(1,)),
    )
    vs = VariantSet(cost, w, 400.0, variants)
    res = robust_plan(vs, p=6, time_limit=120)
    assert res.status == "optimal"
    ev = evaluate_plan(res.selected, vs)
    assert ev.worst == pytest.approx(res.objective)
    for s in range(len(variants)):  # a plan for all variants never beats a variant's own optimum
        own = robust_plan(VariantSet(cost, w, 400.0, (variants[s],)), p=6, time_limit=60)
        assert res.covered[s] <= own.objective + 1e-6
    gains = sum_intervals(draws, within_radius(cost, 400.0)[:, res.selected])
    assert all(g.low <= g.point <= g.high for g in gains)
