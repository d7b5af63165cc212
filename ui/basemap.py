"""Which background map the Leaflet maps show: online tiles when reachable, else none.

basemap.de (the official German basemap of the BKG, grey and colour) and the
OpenStreetMap standard map are offered as background layers. With
``Settings.tiles == "auto"`` (the default) a quick probe asks the tile server
for one tile of NRW (short timeout, result cached for a few minutes): when it
answers, basemap.de grau is switched on; when not, the map stays on its
offline background (Land, Regierungsbezirke, Kreise and Gemeinde outlines,
all embedded). ``"on"`` always shows the tiles, ``"off"`` never offers them
(air-gapped installations; no request ever leaves the machine). Without
``Settings.online`` the ``auto`` mode does not probe at all.

Local raster tiles (``Settings.tiles_dir``) come first and are switched on
when present, instead of any online layer (see :mod:`ui.map_background`).
"""

from __future__ import annotations

import logging
import time
import urllib.request
from dataclasses import dataclass, replace

from geo.layers.sources import BASEMAP_DE_FARBIG, BASEMAP_DE_GRAU, OSM_TILES, Source
from geo.settings import Settings
from ui.map_background import local_tiles
from ui.static_assets import LocalTiles

logger = logging.getLogger(__name__)

#: A tile over the Ruhr (zoom 8): small, always present on both servers.
PROBE_TILE: tuple[int, int, int] = (8, 133, 85)
#: Seconds the probe may take before the server counts as unreachable.
PROBE_TIMEOUT_S = 1.5
#: Seconds a probe result is reused.
PROBE_TTL_S = 300.0
#: Background layers in the order of the layer control; the first reachable one is shown.
BACKGROUNDS: tuple[tuple[Source, str], ...] = (
    (BASEMAP_DE_GRAU, "Hintergrund: basemap.de grau"),
    (BASEMAP_DE_FARBIG, "Hintergrund: basemap.de farbig"),
    (OSM_TILES, "Hintergrund: OpenStreetMap"),
)

_probes: dict[str, tuple[float, bool]] = {}


@dataclass(frozen=True)
class Background:
    """The background layers a map offers and which one is switched on.

    Attributes
    ----------
    offered
        ``(source, layer name)`` pairs put into the layer control.
    shown
        Id of the online source switched on, or ``None`` (offline background only).
    local
        Local raster tiles (``Settings.tiles_dir``), published for Streamlit; switched on when present.
    problem
        German message why the configured local tiles cannot be shown.
    """

    offered: tuple[tuple[Source, str], ...]
    shown: str | None
    local: LocalTiles | None = None
    problem: str | None = None


def tile_url(source: Source, z: int, x: int, y: int) -> str:
    """The URL of one tile of ``source``.

    >>> tile_url(OSM_TILES, 8, 133, 85)
    'https://tile.openstreetmap.org/8/133/85.png'
    """
    return str(source.url).replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def reachable(url: str, timeout_s: float = PROBE_TIMEOUT_S, now: float | None = None) -> bool:
    """Whether ``url`` answers 200 within ``timeout_s`` (cached for :data:`PROBE_TTL_S`)."""
    now = time.monotonic() if now is None else now
    cached = _probes.get(url)
    if cached is not None and now - cached[0] < PROBE_TTL_S:
        return cached[1]
    ok = False
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "Integrationsatlas-NRW (Kachel-Test)"})
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            ok = resp.status == 200
    except (OSError, ValueError) as exc:
        logger.info("Hintergrundkarte nicht erreichbar (%s): %s", url, exc)
    _probes[url] = (now, ok)
    return ok


def background(cfg: Settings, sources: tuple[tuple[Source, str], ...] = BACKGROUNDS) -> Background:
    """Decide the background layers for ``cfg`` (see the module docstring).

    Parameters
    ----------
    cfg
        ``tiles`` (``off``/``auto``/``on``) and ``online``.
    sources
        Candidate tile sources with their layer names, preferred first.
    """
    local, problem = local_tiles(cfg)
    online = _online(cfg, sources)
    if local is None and problem is None:
        return online
    return replace(online, shown=None if local is not None else online.shown, local=local, problem=problem)


def _online(cfg: Settings, sources: tuple[tuple[Source, str], ...]) -> Background:
    """The online part of :func:`background`."""
    if cfg.tiles == "off":
        return Background((), None)
    if cfg.tiles == "on":
        return Background(sources, sources[0][0].id)
    if not cfg.online:
        return Background(sources, None)
    for source, _name in sources:
        if reachable(tile_url(source, *PROBE_TILE)):
            return Background(sources, source.id)
    return Background(sources, None)
