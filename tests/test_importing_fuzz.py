"""Property tests: broken CSV and GeoJSON inputs never crash the importer.

Every failure must be one of the project's own errors with a message, and a
failed import must leave the data store exactly as it was.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.errors import IntegrationsatlasError
from geo.importing import import_file
from geo.settings import Settings
from geo.store import DataStore

FUZZ = hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

VALID_CSV = "id;name;plz;lon;lat;plaetze\nK1;Kita am Dom;50667;6,9583;50,9413;40\nK2;Kita B;40213;6,7719;51,2277;\n"
VALID_GEOJSON = json.dumps({
    "type": "FeatureCollection",
    "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [6.9583, 50.9413]},
                  "properties": {"id": "K1", "name": "Kita am Dom"}}],
})


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Settings, Path]]:
    """Settings whose store already holds one batch, and a folder for the inputs."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings().with_home(home / "home")
        seed = gpd.GeoDataFrame({"id": ["SEED"], "name": ["Bestand"]}, geometry=[Point(356_000, 5_645_000)],
                                crs="EPSG:25832")
        DataStore(settings.store_path).write_layer("kita", seed, mode="append", source_file="seed",
                                                   source="test", licence="CC0")
        yield settings, home


def _check(path: Path, settings: Settings, on_invalid: str) -> None:
    store = DataStore(settings.store_path)
    before = store.batches()
    try:
        result = import_file(path, "kita", settings, on_invalid=on_invalid)  # type: ignore[arg-type]
    except IntegrationsatlasError as exc:
        message = str(exc).strip()
        result = None
    else:
        message = ""
    if result is None:
        assert message, "an error without a message"
        assert store.batches() == before
        return
    # a (rare) valid input was stored as exactly one new batch; undo it to keep the store comparable
    after = store.batches()
    assert result.batch is not None
    assert [b.batch_id for b in after[1:]] == [b.batch_id for b in before]
    store.deactivate(result.batch.batch_id)


def _mutate(base: bytes, data: st.DataObject) -> bytes:
    """Cut, splice and overwrite bytes of a valid file."""
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(0, 6))):
        op = data.draw(st.sampled_from(["cut", "insert", "replace"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "cut":
            del raw[pos: pos + data.draw(st.integers(1, 20))]
        else:
            chunk = data.draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
                [b";", b",", b'"', b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"sep=;\n", b"{", b"]", b"1e999",
                 b"NaN", b"-", b"\xe4", b"<script>"]))
            raw[pos:pos] = chunk if op == "insert" else b""
            if op == "replace":
                del raw[pos + len(chunk): pos + 2 * len(chunk)]
    return bytes(raw)


@FUZZ
@given(data=st.data(), on_invalid=st.sampled_from(["reject", "keep_valid"]))
def test_broken_csv_bytes(seeded: tuple[Settings, Path], data: st.DataObject, on_invalid: str) -> None:
    settings, home = seeded
    content = data.draw(st.one_of(st.binary(max_size=300), st.just(VALID_CSV.encode("cp1252"))), label="base")
    content = _mutate(content, data)
    path = home / "fuzz.csv"
    path.write_bytes(content)
    _check(path, settings, on_invalid)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
coords = st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=3)
geometries = st.one_of(
    st.none(),
    st.fixed_dictionaries({"type": st.sampled_from(["Point", "LineString", "Polygon", "Bogus"]),
                           "coordinates": st.one_of(coords, st.lists(coords, max_size=4), json_values)}),
    json_values,
)
features = st.fixed_dictionaries({
    "type": st.sampled_from(["Feature", "feature", "Nope"]),
    "geometry": geometries,
    "properties": st.one_of(st.dictionaries(st.sampled_from(["id", "name", "plz", "lon", "lat", "ogs", "x"]),
                                            json_values, max_size=5), json_values),
})
geojson_docs = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries({"type": st.sampled_from(["FeatureCollection", "Feature"]),
                           "features": st.one_of(st.lists(features, max_size=4), json_values)}).map(json.dumps),
    st.text(max_size=200),
)


@FUZZ
@given(text=geojson_docs, cut=st.integers(0, 400), on_invalid=st.sampled_from(["reject", "keep_valid"]))
def test_broken_geojson(seeded: tuple[Settings, Path], text: str, cut: int, on_invalid: str) -> None:
    settings, home = seeded
    path = home / "fuzz.geojson"
    path.write_text(text[: max(cut, len(text) // 2)], encoding="utf-8")
    _check(path, settings, on_invalid)


@FUZZ
@given(data=st.data())
def test_truncated_valid_geojson(seeded: tuple[Settings, Path], data: st.DataObject) -> None:
    settings, home = seeded
    path = home / "fuzz2.geojson"
    path.write_bytes(_mutate(VALID_GEOJSON.encode(), data))
    _check(path, settings, "reject")
