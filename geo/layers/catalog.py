"""Declarations of every layer of the Integrationsatlas, each exactly once.

Colours are the Okabe–Ito palette, which stays distinguishable with the common
forms of colour-blindness.
"""

from __future__ import annotations

from geo.layers.registry import REGISTRY
from geo.layers.sources import (
    BKG_VG250,
    BKG_VG250_EMBEDDED,
    BKG_VG250_GEMEINDEN_EMBEDDED,
    DB_HAFAS_STATIONS,
    DESTATIS,
    GEONAMES,
    KI_REGISTER,
    MSB_SCHULDATEN,
    OSM,
    USER_IMPORT,
)
from geo.layers.spec import Column, LayerSpec, Style, facility_layer

# --- boundaries -----------------------------------------------------------

_BOUNDARY_COLUMNS = (
    Column("ags", "str", "AGS", required=True),
    Column("name", "str", "Name", required=True),
)

LAND = REGISTRY.register(
    LayerSpec(
        id="land",
        title="Land NRW",
        title_en="State of NRW",
        kind="polygon",
        group="boundary",
        level="land",
        columns=_BOUNDARY_COLUMNS,
        style=Style("#333333", weight=2.5, fill_opacity=0.0),
        tooltip=("name",),
        sources=(BKG_VG250_EMBEDDED,),
        embedded="boundaries/nrw_verwaltungsgrenzen.gpkg",
        id_column="ags",
        description="Landesgrenze, aus den Kreisen aufgelöst.",
    )
)
REGBEZ = REGISTRY.register(
    LayerSpec(
        id="regbez",
        title="Regierungsbezirke",
        title_en="Administrative regions",
        kind="polygon",
        group="boundary",
        level="regbez",
        columns=_BOUNDARY_COLUMNS,
        style=Style("#555555", weight=2.0, fill_opacity=0.0),
        tooltip=("name", "ags"),
        sources=(BKG_VG250_EMBEDDED,),
        embedded="boundaries/nrw_verwaltungsgrenzen.gpkg",
        id_column="ags",
        description="Die 5 Regierungsbezirke, aus den Kreisen aufgelöst.",
    )
)
KREIS = REGISTRY.register(
    LayerSpec(
        id="kreis",
        title="Kreise und kreisfreie Städte",
        title_en="Districts",
        kind="polygon",
        group="boundary",
        level="kreis",
        columns=_BOUNDARY_COLUMNS
        + (
            Column("bez", "str", "Art"),
            Column("regbez", "str", "Regierungsbezirk (AGS)"),
            Column("wsk", "date", "Wirksamkeit (WSK)"),
        ),
        style=Style("#6b6b6b", weight=1.0, fill_opacity=0.15),
        tooltip=("name", "ags", "bez"),
        sources=(BKG_VG250_EMBEDDED, BKG_VG250),
        embedded="boundaries/nrw_verwaltungsgrenzen.gpkg",
        id_column="ags",
        description="22 kreisfreie Städte und 31 Kreise (BKG VG250).",
    )
)
GEMEINDE = REGISTRY.register(
    LayerSpec(
        id="gemeinde",
        title="Gemeinden",
        title_en="Municipalities",
        kind="polygon",
        group="boundary",
        level="gemeinde",
        columns=_BOUNDARY_COLUMNS
        + (
            Column("bez", "str", "Art"),
            Column("kreis_ags", "str", "Kreis (AGS)"),
            Column("population", "int", "Einwohner"),
        ),
        style=Style("#8c8c8c", weight=0.6, fill_opacity=0.1),
        tooltip=("name", "ags", "population"),
        sources=(BKG_VG250_GEMEINDEN_EMBEDDED, BKG_VG250, DESTATIS),
        embedded="boundaries/nrw_gemeinden.gpkg",
        id_column="ags",
        extra={"stored": "replaces_embedded"},
        description=(
            "396 Gemeinden (BKG VG250, eingebettet Stand 2016; ein abgerufener oder importierter "
            "VG250-Stand ersetzt sie vollständig). Einwohner erst nach Destatis-Import."
        ),
    )
)

# --- demand ---------------------------------------------------------------

ORTE = REGISTRY.register(
    LayerSpec(
        id="orte",
        title="Orte (GeoNames)",
        title_en="Places (GeoNames)",
        kind="point",
        group="demand",
        columns=(
            Column("id", "str", "GeoNames-ID", required=True),
            Column("name", "str", "Name", required=True),
            Column("population", "int", "Einwohner (GeoNames)", required=True),
            Column("kreis_ags", "str", "Kreis (AGS)", required=True),
        ),
        style=Style("#999999", radius=3),
        tooltip=("name", "population", "kreis_ags"),
        sources=(GEONAMES,),
        embedded="places/nrw_orte_geonames.gpkg",
        description="Bewohnte Orte in NRW mit Einwohnerzahl (GeoNames cities500), Rückfallebene für die Nachfrage.",
    )
)

# --- facilities -----------------------------------------------------------

KI = REGISTRY.register(
    facility_layer(
        "ki",
        "Kommunale Integrationszentren",
        "Municipal integration centres",
        columns=(Column("sitz", "str", "Sitz"),),
        style=Style("#0072B2", icon="building", radius=8),
        sources=(KI_REGISTER, USER_IMPORT),
        embedded="facilities/ki.gpkg",
        tooltip=("name", "traeger", "sitz", "source", "location_precision"),
        description="54 KI: je Kreis und kreisfreie Stadt eines, dazu Stadt Aachen. Standort auf Ortsebene.",
    )
)
INTEGRATIONSAGENTUR = REGISTRY.register(
    facility_layer(
        "integrationsagentur",
        "Integrationsagenturen",
        "Integration agencies",
        columns=(Column("schwerpunkt", "str", "Schwerpunkt", aliases=("fachbereich", "angebot")),),
        style=Style("#E69F00", icon="handshake"),
        sources=(USER_IMPORT, OSM),
        description=(
            "Integrationsagenturen der Freien Wohlfahrtspflege "
            "(AWO, Caritas, Diakonie, DRK, Paritätischer, Jüdische Gemeinden)."
        ),
    )
)
KITA = REGISTRY.register(
    facility_layer(
        "kita",
        "Kitas",
        "Day-care centres",
        columns=(Column("plaetze", "int", "Plätze", aliases=("platzzahl", "kapazitaet", "kapazität", "capacity")),),
        style=Style("#009E73", icon="child", radius=5),
        sources=(USER_IMPORT, OSM),
        capacity_column="plaetze",
        description="Kindertageseinrichtungen; Plätze, wo bekannt.",
    )
)
OGS = REGISTRY.register(
    facility_layer(
        "ogs",
        "Offene Ganztagsschulen (Grundschulen)",
        "Open all-day primary schools",
        columns=(
            Column("ogs", "tristate", "OGS-Angebot", aliases=("ganztag", "offener_ganztag")),
            Column("schulnummer", "str", "Schulnummer"),
        ),
        style=Style("#56B4E9", icon="school", radius=5),
        tooltip=("name", "traeger", "ort", "ogs", "source", "location_precision"),
        sources=(MSB_SCHULDATEN, USER_IMPORT, OSM),
        description="Grundschulen als OGS-Standorte; das OGS-Merkmal ist ja/nein/unbekannt und wird nie geraten.",
    )
)
WOHNPROJEKT = REGISTRY.register(
    facility_layer(
        "wohnprojekt",
        "Wohnprojekte und Unterkünfte",
        "Housing projects and accommodation",
        columns=(
            Column("kapazitaet", "int", "Plätze", aliases=("plaetze", "plätze", "capacity")),
            Column("art", "str", "Art", aliases=("typ", "kategorie")),
        ),
        style=Style("#CC79A7", icon="home"),
        sources=(USER_IMPORT, OSM),
        capacity_column="kapazitaet",
        description="Wohnprojekte und Unterkünfte für Geflüchtete und Neuzugewanderte.",
        sensitive=True,  # addresses of refugee accommodation: aggregated for roles without exact access
    )
)
ANKOMMENSTREFFPUNKT = REGISTRY.register(
    facility_layer(
        "ankommenstreffpunkt",
        "Ankommens-Treffpunkte (KOMM-AN NRW)",
        "Arrival meeting points",
        columns=(Column("status", "str", "Status", choices=("bestehend", "geplant")),),
        style=Style("#D55E00", icon="star", radius=7),
        tooltip=("name", "traeger", "ort", "status", "source", "location_precision"),
        sources=(USER_IMPORT, OSM),
        description="Ankommens-Treffpunkte im Programm KOMM-AN NRW, bestehend oder geplant.",
    )
)

# --- other public places (siting candidates) ------------------------------

GEMEINSCHAFTSZENTRUM = REGISTRY.register(
    facility_layer(
        "gemeinschaftszentrum",
        "Gemeinschafts- und Bürgerzentren",
        "Community centres",
        columns=(),
        style=Style("#F0E442", icon="users", radius=4),
        group="poi",
        sources=(OSM, USER_IMPORT),
        description=(
            "Bürger- und Gemeinschaftszentren (OSM amenity=community_centre) als mögliche Treffpunkt-Standorte."
        ),
    )
)
BAHNHOF = REGISTRY.register(
    facility_layer(
        "bahnhof",
        "Bahnhöfe und Haltepunkte",
        "Rail stations",
        columns=(),
        style=Style("#000000", icon="train", radius=4),
        group="poi",
        sources=(USER_IMPORT, OSM),
        description="Bahnhöfe als gut erreichbare mögliche Treffpunkt-Standorte (Import, z. B. DB-Haltestellendaten).",
    )
)


# --- public transport -----------------------------------------------------

#: Mode classes of the ``haltestelle`` layer, highest first (see ``data/transit/README.md``).
HALTESTELLE_MODI: tuple[str, ...] = ("bahn", "tram_ubahn", "bus", "sonstige")

HALTESTELLE = REGISTRY.register(
    LayerSpec(
        id="haltestelle",
        title="Haltestellen",
        title_en="Public-transport stops",
        kind="point",
        group="poi",
        columns=(
            Column("id", "str", "Haltestellen-ID (EVA/HAFAS)", required=True),
            Column("name", "str", "Name", required=True),
            Column(
                "modus",
                "str",
                "Verkehrsmittelklasse",
                choices=HALTESTELLE_MODI,
                choice_titles=("Bahn (S-Bahn, Regional-, Fernverkehr)", "Straßenbahn/U-Bahn", "Bus", "Sonstige"),
            ),
            Column("verkehrsmittel", "str", "Verkehrsmittel"),
            Column("typ", "str", "Typ", choices=("station", "stop")),
            Column("bus", "bool", "Bus"),
            Column("tram", "bool", "Straßenbahn"),
            Column("subway", "bool", "U-Bahn"),
            Column("suburban", "bool", "S-Bahn"),
            Column("regional", "bool", "Regionalverkehr"),
            Column("national", "bool", "Fernverkehr"),
        ),
        style=Style("#000000", icon="bus", radius=2),
        tooltip=("name", "verkehrsmittel"),
        sources=(DB_HAFAS_STATIONS, USER_IMPORT),
        embedded="transit/nrw_haltestellen.gpkg",
        description=(
            "Rund 59 000 Haltestellen des öffentlichen Verkehrs in NRW (Bus, Straßenbahn/U-Bahn, Bahn); "
            "filterbar nach »modus«."
        ),
        extra={"filter_column": "modus"},
    )
)
