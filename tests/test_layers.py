"""The layer registry and the validating loaders."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.errors import CRSError, IntegrationsatlasError, ValidationError
from geo.importing import import_file
from geo.io.export import export_layer
from geo.layers import REGISTRY, Column, LayerRegistry, LayerSpec, Source, Style, facility_layer
from geo.layers.loading import load_layer, validate_layer_frame
from geo.projection import ensure_projected
from geo.settings import Settings
from geo.units import load_boundaries
from integrationsatlas import cli

KREIS = REGISTRY.get("kreis")
KI = REGISTRY.get("ki")


def _kreise(**overrides: object) -> gpd.GeoDataFrame:
    data = {
        "ags": ["05111", "05112"],
        "name": ["Düsseldorf", "Duisburg"],
        "geometry": [box(340_000, 5_680_000, 350_000, 5_690_000), box(330_000, 5_700_000, 340_000, 5_710_000)],
    }
    data.update(overrides)  # type: ignore[arg-type]
    return gpd.GeoDataFrame(data, crs="EPSG:25832")


def test_every_facility_layer_is_declared_once_with_common_columns() -> None:
    ids = [s.id for s in REGISTRY]
    assert len(ids) == len(set(ids))
    for wanted in ("ki", "integrationsagentur", "kita", "ogs", "wohnprojekt", "ankommenstreffpunkt"):
        spec = REGISTRY.get(wanted)
        assert spec.group == "facility"
        assert {"id", "name", "source", "location_precision"} <= set(spec.column_names)
        assert set(spec.tooltip) <= set(spec.column_names)
    assert REGISTRY.get("kita").capacity_column == "plaetze"
    assert REGISTRY.get("ogs").column("ogs").dtype == "tristate"
    assert REGISTRY.get("ankommenstreffpunkt").column("status").choices == ("bestehend", "geplant")


def test_unknown_layer_names_the_known_ones() -> None:
    with pytest.raises(IntegrationsatlasError, match="Verfügbare Ebenen: land, regbez, kreis"):
        REGISTRY.get("schwimmbad")


def test_registering_twice_is_refused() -> None:
    reg = LayerRegistry()
    spec = facility_layer("x", "X", "X", (), Style("#000000"), ())
    reg.register(spec)
    with pytest.raises(ValueError, match="already registered"):
        reg.register(spec)


def test_valid_frame_passes_and_stays_projected() -> None:
    out = validate_layer_frame(_kreise(), KREIS, "kreise.gpkg")
    assert out.crs.to_epsg() == 25832
    assert len(out) == 2


def test_wrong_crs_is_reprojected_but_missing_crs_is_refused(raises_matching: Callable) -> None:
    wgs = _kreise().to_crs(4326)
    assert validate_layer_frame(wgs, KREIS, "k.geojson").crs.to_epsg() == 25832
    with raises_matching(ValidationError, "Datei k.geojson", "Kein Koordinatenbezugssystem"):
        validate_layer_frame(_kreise().set_crs(None, allow_override=True), KREIS, "k.geojson")


def test_all_problems_are_collected_in_one_message(raises_matching: Callable) -> None:
    gdf = _kreise(ags=["05111", "05111"]).drop(columns="name")
    with raises_matching(ValidationError, "Spalte »name«", "Pflichtspalte fehlt"):
        validate_layer_frame(gdf, KREIS, "kreise.gpkg")
    gdf = gpd.GeoDataFrame(
        {
            "ags": ["05111", "05111", "09162"],
            "name": ["a", "b", "München"],
            "geometry": [box(340_000, 5_680_000, 341_000, 5_681_000)] * 2 + [Point(690_000, 5_335_000).buffer(10)],
        },
        crs="EPSG:25832",
    )
    with pytest.raises(ValidationError) as info:
        validate_layer_frame(gdf, KREIS, "kreise.gpkg")
    msg = str(info.value)
    assert "ID »05111« ist doppelt" in msg and "Zeile 1" in msg and "Zeile 2" in msg
    assert "AGS »09162« liegt nicht in NRW" in msg and "Zeile 3" in msg
    assert "außerhalb von NRW" in msg
    assert len(info.value.problems) == 4  # 2 duplicates, 1 AGS, 1 outside


def test_planning_refuses_geographic_crs(raises_matching: Callable) -> None:
    with raises_matching(CRSError, "EPSG:4326", "EPSG:25832"):
        ensure_projected(_kreise().to_crs(4326), "Nachfrage")


def test_gemeinde_level_is_embedded(settings: Settings, raises_matching: Callable) -> None:
    assert len(load_boundaries("gemeinde", settings)) == 396  # embedded VG250 2016 (npm package)
    with raises_matching(IntegrationsatlasError, "Unbekannte Ebene »bezirk«"):
        load_boundaries("bezirk", settings)  # type: ignore[arg-type]


def test_empty_facility_layer_has_declared_columns(settings: Settings) -> None:
    gdf = load_layer("kita", settings)
    assert len(gdf) == 0
    assert set(REGISTRY.get("kita").column_names) <= set(gdf.columns)
    assert gdf.crs.to_epsg() == 25832


@pytest.fixture
def familienzentrum() -> Iterator[LayerSpec]:
    """A brand-new facility type, declared once on the application registry."""
    spec = facility_layer(
        "familienzentrum",
        "Familienzentren",
        "Family centres",
        columns=(Column("angebot", "str", "Angebot", aliases=("schwerpunkt",)),),
        style=Style("#117733"),
        sources=(Source("import", "Eigene Datei", "CC0", "Jugendamt"),),
    )
    REGISTRY.register(spec)
    try:
        yield spec
    finally:
        REGISTRY.unregister(spec.id)


def test_a_new_layer_needs_only_its_declaration(
    familienzentrum: LayerSpec,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Registry, import, export and ``layers --json`` all pick up one declaration."""
    assert familienzentrum in REGISTRY.facilities()
    csv = tmp_path / "familienzentren.csv"
    csv.write_text(
        "sep=;\nName;Schwerpunkt;Rechtswert;Hochwert\n"
        "Familienzentrum Nord;Sprachkurse;343500;5676000\n"
        "Familienzentrum Süd;Elterncafé;344000;5675000\n",
        encoding="utf-8",
    )
    result = import_file(csv, "familienzentrum", settings)
    assert result.batch is not None
    assert result.rows_kept == 2
    stored = load_layer("familienzentrum", settings)
    assert sorted(stored["angebot"]) == ["Elterncafé", "Sprachkurse"]
    assert set(stored["kreis_ags"]) == {"05111"}  # Düsseldorf, filled by the spatial join

    xlsx = export_layer("familienzentrum", settings, "xlsx", "EPSG:4326")
    sheet = pd.read_excel(io.BytesIO(xlsx), sheet_name=None)
    assert sorted(sheet) == ["Daten", "Quellen"]
    assert "Familienzentrum Süd" in set(sheet["Daten"].astype(str).stack())

    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: settings))
    assert cli.main(["layers", "--json"]) == 0
    rows = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["familienzentrum"]["count"] == 2
    assert rows["familienzentrum"]["title"] == "Familienzentren"
    assert rows["familienzentrum"]["crs"] == "EPSG:25832"
