"""Addresses of the online sources, overridable for mirrors and loopback tests.

The defaults are the addresses declared once in :mod:`geo.layers.sources`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from geo.layers.sources import BKG_VG250, BKG_VG250_ZIP_URL, DESTATIS, MSB_SCHULDATEN, OSM

#: Environment variable prefix: ``INTEGRATIONSATLAS_URL_<FIELD>`` overrides a field,
#: e.g. ``INTEGRATIONSATLAS_URL_BKG_WFS=http://127.0.0.1:8000/wfs``.
ENV_PREFIX = "INTEGRATIONSATLAS_URL_"


@dataclass(frozen=True)
class SourceConfig:
    """Base URLs of the official and OpenStreetMap sources.

    Parameters
    ----------
    bkg_wfs
        BKG WFS of the VG250 (Verwaltungsgebiete 1:250 000).
    bkg_zip
        BKG download of VG250 as a zip (GeoPackage or Shapefile, UTM32).
    destatis_gv
        Destatis Gemeindeverzeichnis, "Auszug GV" (XLSX or CSV, Satzart 60 rows).
    msb_schuldaten
        MSB NRW Schulgrunddaten (``schuldaten.csv``).
    overpass
        Overpass API base URL (without ``/interpreter``), used by osmnx.
    wfs_page_size
        Features per WFS ``GetFeature`` page (``count``).
    timeout
        Seconds to wait for a server.
    """

    bkg_wfs: str = str(BKG_VG250.url)
    bkg_zip: str = BKG_VG250_ZIP_URL
    destatis_gv: str = str(DESTATIS.url)
    msb_schuldaten: str = str(MSB_SCHULDATEN.url)
    overpass: str = str(OSM.url)
    wfs_page_size: int = 1000
    timeout: float = 120.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SourceConfig:
        """Defaults overridden by ``INTEGRATIONSATLAS_URL_<FIELD>`` variables.

        >>> SourceConfig.from_env({"INTEGRATIONSATLAS_URL_OVERPASS": "http://127.0.0.1:1/api"}).overpass
        'http://127.0.0.1:1/api'
        """
        env = os.environ if environ is None else environ
        changes: dict[str, object] = {}
        for f in fields(cls):
            value = env.get(ENV_PREFIX + f.name.upper())
            if value:
                changes[f.name] = type(getattr(cls(), f.name))(value)
        return replace(cls(), **changes)  # type: ignore[arg-type]

    @classmethod
    def local(cls, base_url: str, **overrides: object) -> SourceConfig:
        """All sources on one server (a mirror or the loopback test server).

        >>> SourceConfig.local("http://127.0.0.1:8000").msb_schuldaten
        'http://127.0.0.1:8000/schuldaten.csv'
        """
        base = base_url.rstrip("/")
        config = cls(
            bkg_wfs=f"{base}/wfs_vg250",
            bkg_zip=f"{base}/vg250.zip",
            destatis_gv=f"{base}/AuszugGV.xlsx",
            msb_schuldaten=f"{base}/schuldaten.csv",
            overpass=f"{base}/api",
        )
        return replace(config, **overrides)  # type: ignore[arg-type]
