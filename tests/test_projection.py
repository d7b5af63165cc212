"""Projection round trip: 25832 → 4326 → 25832 stays within a millimetre in NRW."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.projection import NRW_BOUNDS_25832, to_display, to_projected

MINX, MINY, MAXX, MAXY = NRW_BOUNDS_25832


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(MINX, MAXX), st.floats(MINY, MAXY)), min_size=1, max_size=50))
def test_round_trip_within_a_millimetre(xy: list[tuple[float, float]]) -> None:
    x, y = np.array(xy).T
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:25832")
    back = to_projected(to_display(gdf))
    assert back.crs == gdf.crs
    shift = np.hypot(back.geometry.x.to_numpy() - x, back.geometry.y.to_numpy() - y)
    assert shift.max() < 1e-3
