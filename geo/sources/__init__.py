"""Official and open sources: acquisition, validation and on-disk caches.

* :mod:`geo.sources.bkg` – BKG VG250 Gemeinden and Kreise (WFS or zip);
* :mod:`geo.sources.destatis` – Destatis Gemeindeverzeichnis (population per Gemeinde, GV-ISys layouts);
* :mod:`geo.sources.zensus`, :mod:`geo.sources.zensus_files` – the Zensus 2022 grid family (streamed);
* :mod:`geo.sources.osm` – OpenStreetMap facilities (osmnx / Overpass or an extract);
* :mod:`geo.sources.buildings` – residential buildings of an OSM extract (cached by content);
* :mod:`geo.sources.streets`, :mod:`geo.sources.osm_pbf` – the one street-network loader and its
  pyosmium reader (``.osm.pbf``, ``.osm``, ``.osm.bz2``; cached by content, mode and clip area);
* :mod:`geo.sources.gtfs` – GTFS timetables (frequencies expanded, validated);
* :mod:`geo.sources.fetching` – the ``integrationsatlas fetch SOURCE`` machinery
  (download, validate, store with URL, fetch time and licence), including the MSB Schuldaten;
* :mod:`geo.sources.download` – HTTP downloads with progress and cache;
* :mod:`geo.sources.config` – the overridable source addresses (defaults in :mod:`geo.layers.sources`).

The submodules are imported on use, so that importing one (e.g. the VG250
normalisation for the file importer) does not pull in osmnx.
"""

from geo.sources.config import SourceConfig

__all__ = ["SourceConfig"]
