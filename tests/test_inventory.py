"""The layer inventory and ``integrationsatlas layers``: counts, provenance, new layers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.layers import REGISTRY, Column, Source, Style, facility_layer
from geo.layers.inventory import LayerInfo, layer_inventory
from geo.layers.registry import LayerRegistry
from geo.settings import Settings
from geo.store import DataStore

pytest_plugins = ("loopback",)

_TEST_SOURCE = Source("test", "Testquelle", "CC0", "Test", kind="import", as_of="2024-05-01")


@pytest.fixture
def familienzentrum() -> Iterator[str]:
    """A new facility layer registered on the application registry for one test."""
    spec = facility_layer(
        "familienzentrum",
        "Familienzentren",
        "Family centres",
        columns=(Column("angebot", "str", "Angebot"),),
        style=Style("#123456"),
        sources=(_TEST_SOURCE,),
    )
    REGISTRY.register(spec)
    try:
        yield spec.id
    finally:
        REGISTRY.unregister(spec.id)


def _points(ids: list[str], precision: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ids, "name": [f"Zentrum {i}" for i in ids], "location_precision": precision},
        geometry=[Point(300_000 + 100 * k, 5_630_000) for k in range(len(ids))],
        crs="EPSG:25832",
    )


def test_inventory_of_synthetic_data(synthetic_settings: Settings) -> None:
    DataStore(synthetic_settings.store_path).write_layer(
        "kita",
        _points(["k1", "k2", "k3"], ["Koordinate", "Koordinate", "PLZ"]),
        mode="append",
        source_file="kitas.csv",
        source="import",
        licence="CC BY 4.0",
    )
    info = {i.id: i for i in layer_inventory(synthetic_settings)}
    assert set(info) == set(REGISTRY.ids())
    kreis = info["kreis"]
    assert (kreis.count, kreis.available, kreis.crs) == (2, True, "EPSG:25832")
    assert kreis.as_of == "2009-10-21"  # the newest WSK of the embedded Kreise
    assert kreis.licence == "dl-de/by-2-0"
    kita = info["kita"]
    assert (kita.count, kita.source, kita.licence, kita.precision) == (
        3,
        "Eigene Datei (Import): kitas.csv",  # named by its file, not »import«
        "CC BY 4.0",
        "Koordinate: 2, PLZ: 1",
    )
    # no Stichtag given: the import day is kept apart, never passed off as the data's date
    assert kita.as_of == "" and kita.imported_at.startswith("20")
    # not loaded: no error, count 0, and a hint how to get the data
    gem = info["gemeinde"]
    assert (gem.count, gem.available) == (0, False) and "fetch bkg-vg250" in gem.note
    # an embedded file that is missing (the synthetic data has no KI file) is reported, not raised
    assert (info["ki"].count, info["ki"].available) == (0, False) and "fehlt" in info["ki"].note


def test_inventory_on_own_registry(synthetic_settings: Settings) -> None:
    registry = LayerRegistry()
    registry.register(facility_layer("x", "X", "X", (), Style("#000000"), (_TEST_SOURCE,)))
    [info] = layer_inventory(synthetic_settings, registry)
    assert isinstance(info, LayerInfo)
    assert info.as_dict() | {"note": ""} == {
        "id": "x",
        "title": "X",
        "title_en": "X",
        "group": "facility",
        "kind": "point",
        "count": 0,
        "crs": "EPSG:25832",
        "source": "Testquelle",
        "licence": "CC0",
        "as_of": "",
        "precision": "",
        "available": False,
        "note": "",
        "publisher": "",
        "imported_at": "",
    }


def test_new_layer_shows_up_in_inventory_and_cli(
    familienzentrum: str, synthetic_settings: Settings, monkeypatch, capsys
) -> None:
    from integrationsatlas.cli import main

    info = {i.id: i for i in layer_inventory(synthetic_settings)}
    assert info[familienzentrum].title == "Familienzentren" and info[familienzentrum].count == 0
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: synthetic_settings))
    assert main(["layers", "--json", "--all"]) == 0
    rows = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows[familienzentrum]["count"] == 0 and rows[familienzentrum]["crs"] == "EPSG:25832"
    DataStore(synthetic_settings.store_path).write_layer(
        familienzentrum,
        _points(["f1", "f2"], ["Adresse", "Adresse"]),
        mode="append",
        source_file="fz.xlsx",
        source="Jugendamt",
        licence="dl-de/zero-2-0",
    )
    assert main(["layers", "--json"]) == 0
    rows = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows[familienzentrum]["count"] == 2
    assert rows[familienzentrum]["source"] == "Jugendamt" and rows[familienzentrum]["licence"] == "dl-de/zero-2-0"
    assert rows[familienzentrum]["precision"] == "Adresse: 2"
    assert "gemeinde" not in rows  # without --all only layers with data
    # the text lists the Stand as the Daten page does: an unknown one is named so, with the import day
    assert main(["layers"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(familienzentrum))
    imported = rows[familienzentrum]["imported_at"]
    assert line.endswith(f"[dl-de/zero-2-0; Stand unbekannt (Import {imported[8:10]}.{imported[5:7]}.{imported[:4]})]")


def test_inventory_of_the_real_embedded_data(settings: Settings) -> None:
    info = {i.id: i for i in layer_inventory(settings)}
    assert info["kreis"].available, info["kreis"].note  # shipped data that does not load is a bug
    assert info["kreis"].count == 53 and info["kreis"].as_of == "2009-11-01"
    assert info["ki"].count == 54 and info["ki"].precision == "Ort: 54"
    assert info["ki"].as_of != ""


def test_the_batches_table_names_an_own_file_and_its_stand(synthetic_settings: Settings) -> None:
    # »Importe verwalten« showed the source as »import« and no Stand at all
    from ui.views import batches_table

    store = DataStore(synthetic_settings.store_path)
    kitas = _points(["k1"], ["Koordinate"])
    store.write_layer("kita", kitas, mode="append", source_file="kitas.csv", source="import", licence="CC0")
    store.write_layer("kita", kitas.assign(id=["k2"]), mode="append", source_file="k.csv", source="import",
                      licence="CC0", as_of="2024-05-01")  # fmt: skip
    shown = batches_table(store.batches("kita")).set_index("Datei")
    assert shown.loc["kitas.csv", "Quelle"] == "Eigene Datei (Import)"
    assert (shown.loc["kitas.csv", "Stand"], shown.loc["k.csv", "Stand"]) == ("unbekannt", "01.05.2024")
