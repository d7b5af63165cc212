"""Official online sources and OpenStreetMap, fetched into the local data store.

* :mod:`geo.sources.bkg` – BKG VG250 Gemeinden and Kreise (WFS or zip);
* :mod:`geo.sources.destatis` – Destatis Gemeindeverzeichnis (population per Gemeinde);
* :mod:`geo.sources.fetching` – the ``integrationsatlas fetch SOURCE`` machinery
  (download, validate, store with URL, fetch time and licence), including the
  MSB Schuldaten and the OpenStreetMap sources of :mod:`geo.sources.osm`;
* :mod:`geo.sources.config` – the overridable source addresses.

The submodules are imported on use, so that importing one (e.g. the VG250
normalisation for the file importer) does not pull in osmnx.
"""

from geo.sources.config import SourceConfig

__all__ = ["SourceConfig"]
