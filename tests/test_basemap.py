"""Background map choice: tiles on when the (loopback) tile server answers, off when not or when disabled."""

from __future__ import annotations

from dataclasses import replace

import pytest
from loopback import LoopbackServer

from geo.errors import DataError
from geo.layers.sources import OSM_TILES
from geo.settings import Settings
from ui import basemap, maps

pytest_plugins = ("loopback",)


def _source(url: str) -> tuple[tuple[object, str], ...]:
    return ((replace(OSM_TILES, id="test_tiles", url=url + "/{z}/{x}/{y}.png"), "Hintergrund: Test"),)


def test_reachable_tiles_are_switched_on_and_the_probe_is_cached(loopback: LoopbackServer) -> None:
    basemap._probes.clear()
    loopback.route("/8/133/85.png", b"\x89PNG\r\n", content_type="image/png")
    sources = _source(loopback.base_url)
    choice = basemap.background(Settings(tiles="auto"), sources)  # type: ignore[arg-type]
    assert choice.shown == "test_tiles"
    basemap.background(Settings(tiles="auto"), sources)  # type: ignore[arg-type]
    assert len(loopback.requests_to("/8/133/85.png")) == 1


def test_unreachable_tiles_stay_off(closed_port_url: str) -> None:
    basemap._probes.clear()
    choice = basemap.background(Settings(tiles="auto"), _source(closed_port_url))  # type: ignore[arg-type]
    assert choice.shown is None and len(choice.offered) == 1


def test_off_offers_nothing_and_offline_auto_does_not_probe(loopback: LoopbackServer) -> None:
    basemap._probes.clear()
    sources = _source(loopback.base_url)
    assert basemap.background(Settings(tiles="off"), sources) == basemap.Background((), None)  # type: ignore[arg-type]
    assert basemap.background(Settings(tiles="auto", online=False), sources).shown is None  # type: ignore[arg-type]
    assert basemap.background(Settings(tiles="on", online=False), sources).shown == "test_tiles"  # type: ignore[arg-type]
    assert loopback.requests_to("/8/133/85.png") == []


def test_base_map_shows_the_chosen_background_only() -> None:
    on = maps.base_map(tiles=basemap.Background(basemap.BACKGROUNDS, "basemap_de_grau")).get_root().render()
    off = maps.base_map(tiles=basemap.Background((), None)).get_root().render()
    assert "de_basemapde_web_raster_grau" in on and "de_basemapde_web_raster_farbe" in on
    assert "tile.openstreetmap.org" not in off and "geodatenzentrum" not in off
    assert '"maxZoom": 18' in off and "leaflet.markercluster.js" in off


def test_tiles_setting_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEGRATIONSATLAS_TILES", "off")
    assert Settings.from_env().tiles == "off"
    monkeypatch.setenv("INTEGRATIONSATLAS_TILES", "vielleicht")
    with pytest.raises(DataError, match="INTEGRATIONSATLAS_TILES"):
        Settings.from_env()
