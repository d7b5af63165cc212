"""Real data: 5 new Treffpunkte for the city of Aachen on foot, on the fine 100 m demand from OSM buildings.

Needs ``../shared/data`` (the central Aachen OSM extract and the 2019 Destatis Gemeinde population);
nothing of it is committed. The network and buildings are built once in a temporary home (cold cache).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree

from geo.settings import Settings
from integrationsatlas.cli import main
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec
from integrationsatlas.siting import plan_sites

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def test_aachen_on_foot_named_plausible_sites_with_positive_gain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path, aachen_osm_pbf: Path
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(home))
    population = shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv"
    if not population.exists():
        pytest.skip(f"{population} fehlt")
    assert main(["population", str(population)]) == 0
    settings = Settings().with_home(home)
    t0 = time.perf_counter()
    plan = plan_sites(
        settings,
        AnalysisRequest(
            "ankommenstreffpunkt",
            15,
            unit="min",
            mode="walk",
            area=AreaRef("05334002"),
            osm_file=aachen_osm_pbf,
            siting=SitingSpec(p=5, sensitivity_ps=(1, 5)),
        ),
    )
    seconds = time.perf_counter() - t0
    assert "100-m" in plan.inputs["demand_level"]  # the fine estimate from buildings
    sites = plan.explanation.sites
    assert len(sites) == 5
    assert all(s.gain > 0 for s in sites)
    assert sum(s.gain for s in sites) == pytest.approx(plan.explanation.covered_after - plan.explanation.covered_before)
    names = [s.name for s in sites]
    assert len(set(names)) == 5
    assert not any(n.startswith(("Raster", "Clusterzentrum")) for n in names), names
    assert all("Aachen" in s.reason for s in sites)  # the benefiting Gemeinde by name
    # every new site is within 150 m of a residential building of the extract
    from geo.sources.buildings import cached_buildings

    homes = cached_buildings(aachen_osm_pbf, settings)
    homes = homes[homes["residential"].to_numpy(dtype=bool)]
    tree = cKDTree(shapely.get_coordinates(shapely.point_on_surface(homes.geometry.to_numpy())))
    new = plan.sites[~plan.sites["fixed"]]
    dist, _ = tree.query(shapely.get_coordinates(new.geometry.to_numpy()))
    assert (dist <= 150.0).all(), dist
    # equity: fewer people beyond 15 minutes, the 90th percentile now finite
    total = plan.equity.set_index("gemeinde_ags").loc["Gesamt"]
    assert total["beyond_after"] < total["beyond_before"]
    assert np.isfinite(total["p90_after"]) and total["p90_after"] > 0
    assert plan.equity["gemeinde"].tolist()[0] == "Aachen"
    assert set(plan.sensitivity["p_new"]) == {1, 5}
    print(
        f"Aachen zu Fuß, 15 min, p=5 (kalter Cache): {seconds:.1f} s, versorgt "
        f"{plan.explanation.share_after:.3f}, {names}"
    )
