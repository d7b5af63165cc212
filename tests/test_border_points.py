"""One point-in-area rule everywhere: facilities on a Kreis border are counted once, the same on every screen.

A facility exactly on a vertex shared by two Kreise, one on a shared border edge and
one inside a Kreis are imported as a user would (CSV with UTM coordinates). The map's
Kreis table, the profile panel, the council report, ``integrationsatlas summary``
and the AGS written at import must all agree, and the counts sum to three.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.importing import import_file
from geo.layers.loading import load_layer
from geo.settings import Settings
from geo.units import load_boundaries, unit_of
from integrationsatlas.areas import area_profile, count_per_unit, kreis_table
from integrationsatlas.cli import main
from integrationsatlas.report.build import _facility_counts, resolve_area

LAYER = "integrationsagentur"


def _shared_vertex_and_edge(kreise: gpd.GeoDataFrame) -> tuple[tuple[float, float], tuple[float, float], str, str]:
    """A vertex and an edge midpoint on the border of two neighbouring Kreise."""
    a = kreise[kreise["ags"] == "05334"].geometry.iloc[0]  # Städteregion Aachen
    b = kreise[kreise["ags"] == "05358"].geometry.iloc[0]  # Kreis Düren
    ca = {tuple(c) for c in shapely.get_coordinates(a.boundary)}
    ring = shapely.get_coordinates(b.boundary)
    shared = [i for i, c in enumerate(map(tuple, ring)) if c in ca]
    consecutive = [i for i in shared if i + 1 < len(ring) and tuple(ring[i + 1]) in ca]
    vertex = tuple(ring[shared[len(shared) // 2]])
    for i in consecutive:  # a point inside a shared segment that GEOS sees on both boundaries
        for f in (0.5, 0.25, 0.75, 0.125, 0.375, 0.625, 0.875):
            x, y = ring[i] + (ring[i + 1] - ring[i]) * f
            point = shapely.Point(x, y)
            if shapely.intersects(a, point) and shapely.intersects(b, point) and (x, y) not in ca:
                return vertex, (float(x), float(y)), "05334", "05358"  # type: ignore[return-value]
    raise AssertionError("no point exactly on a shared border edge found")


@pytest.fixture
def border_settings(settings: Settings, tmp_path: Path) -> tuple[Settings, list[str]]:
    kreise = load_boundaries("kreis", settings)
    vertex, edge, a, b = _shared_vertex_and_edge(kreise)
    inside = kreise[kreise["ags"] == "05111"].geometry.iloc[0].representative_point()
    rows = pd.DataFrame(
        {
            "id": ["ecke", "kante", "innen"],
            "name": ["Auf dem Eckpunkt", "Auf der Grenzlinie", "Mitten in Düsseldorf"],
            "rechtswert": [vertex[0], edge[0], inside.x],
            "hochwert": [vertex[1], edge[1], inside.y],
        }
    )
    path = tmp_path / "grenze.csv"
    rows.to_csv(path, sep=";", index=False)  # full precision: exactly on the border
    result = import_file(path, LAYER, settings)
    assert result.rows_kept == 3
    return settings, [a, b, "05111"]


def test_border_facilities_are_counted_once_and_alike_everywhere(
    border_settings: tuple[Settings, list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, involved = border_settings
    a, b, inner = involved
    kreise = load_boundaries("kreis", settings)
    # on a shared border the smaller AGS wins: both border points belong to 05334, whatever the table order
    shuffled = kreise.sample(frac=1.0, random_state=7)
    points = load_layer(LAYER, settings)
    assert unit_of(points.geometry, kreise).tolist() == unit_of(points.geometry, shuffled).tolist() == [a, a, inner]
    expected = {a: 2, b: 0, inner: 1}

    # the AGS written at import
    assert points.set_index("id")["kreis_ags"].to_dict() == {"ecke": a, "kante": a, "innen": inner}
    # Karte: choropleth table
    table = kreis_table(settings, (LAYER,)).set_index("ags")[f"n_{LAYER}"]
    assert {k: int(table[k]) for k in expected} == expected and int(table.sum()) == 3
    # Karte: profile panel
    for ags, n in expected.items():
        assert len(area_profile(settings, "kreis", ags, (LAYER,)).facilities) == n
    # summary (library and CLI)
    counts = count_per_unit("kreis", settings, [LAYER]).set_index("ags")[LAYER]
    assert {k: int(counts[k]) for k in expected} == expected and int(counts.sum()) == 3
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: settings))
    assert main(["summary", "--by", "kreis", "--layer", LAYER, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    cli = {r["ags"]: r[LAYER] for r in records}
    assert {k: cli[k] for k in expected} == expected and sum(cli.values()) == 3
    # council report: facilities in the area
    for ags, n in expected.items():
        figures, _ = _facility_counts(settings, resolve_area(settings, ags), [LAYER])
        assert figures[0][1] == str(n)
    assert np.isclose(sum(expected.values()), 3)
