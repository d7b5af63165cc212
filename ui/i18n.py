"""A small German/English dictionary for the app's labels.

German is the default. Only the visible chrome (page titles, headings,
widget labels) is translated; data values and error messages from the
``geo`` package stay German.
"""

from __future__ import annotations

import streamlit as st

LANGUAGES: dict[str, str] = {"de": "Deutsch", "en": "English"}
_LANG_KEY = "lang"

_TEXTS: dict[str, tuple[str, str]] = {
    # key: (German, English)
    "app.title": ("Integrationsatlas NRW", "Integration Atlas NRW"),
    "app.subtitle": (
        "Planungswerkzeug für die Integrationsinfrastruktur in Nordrhein-Westfalen",
        "Planning tool for integration infrastructure in North Rhine-Westphalia",
    ),
    "app.language": ("Sprache", "Language"),
    "nav.karte": ("Karte", "Map"),
    "nav.luecken": ("Versorgungslücken", "Coverage gaps"),
    "nav.standort": ("Standortplanung", "Site planning"),
    "nav.daten": ("Daten", "Data"),
    "nav.bericht": ("Bericht", "Report"),
    "footer.sources": ("Datenquellen", "Data sources"),
    "karte.indicator": ("Kennzahl für die Einfärbung", "Indicator for shading"),
    "karte.layer_for_rate": ("Einrichtungsart (je 10.000 Einw.)", "Facility type (per 10,000 inh.)"),
    "karte.search": ("Kreis oder Gemeinde suchen (Name oder AGS)", "Find a district or municipality (name or AGS)"),
    "karte.level": ("Gebietsebene", "Area level"),
    "karte.profile": ("Gebietsprofil", "Area profile"),
    "karte.click_hint": (
        "Klicken Sie auf einen Kreis in der Karte, um sein Profil zu sehen.",
        "Click a district on the map to see its profile.",
    ),
    "karte.facilities": ("Einrichtungen im Gebiet", "Facilities in the area"),
    "daten.upload": ("Datei hochladen", "Upload a file"),
    "daten.population": ("Einwohner je Gemeinde", "Population per municipality"),
    "daten.inventory": ("Bestand aller Ebenen", "Inventory of all layers"),
    "daten.fetch": ("Amtliche oder OSM-Daten abrufen", "Fetch official or OSM data"),
    "daten.batches": ("Importe verwalten", "Manage imports"),
    "luecken.controls": ("Einstellungen", "Settings"),
    "luecken.ranking": ("Am schlechtesten versorgte Gebiete", "Worst-served areas"),
    "luecken.curve": ("Versorgungsgrad nach Schwellenwert", "Coverage by threshold"),
    "standort.run": ("Standorte berechnen", "Compute sites"),
    "standort.candidates": ("Eigene Kandidaten (Klick in die Karte)", "Own candidates (click on the map)"),
    "standort.scenarios": ("Szenarien vergleichen", "Compare scenarios"),
    "bericht.council": ("Bericht für Rat und Ausschuss", "Report for council and committee"),
    "bericht.export": ("Export von Ebenen und Ergebnissen", "Export of layers and results"),
    "karte.show_stops": ("anzeigen", "show"),
    "common.none": ("keine", "none"),
    "upload.button": ("Datei wählen", "Choose file"),
    "upload.drop": ("oder hierher ziehen", "or drag it here"),
}


def current_language() -> str:
    """The language chosen in the sidebar (``de`` or ``en``)."""
    lang = st.session_state.get(_LANG_KEY, "de")
    return lang if lang in LANGUAGES else "de"


def t(key: str) -> str:
    """Return the label ``key`` in the current language.

    Unknown keys are returned unchanged, so a missing entry shows up in the UI
    instead of breaking it.
    """
    pair = _TEXTS.get(key)
    if pair is None:
        return key
    return pair[1] if current_language() == "en" else pair[0]


def language_selector() -> None:
    """Render the Deutsch/English toggle in the sidebar."""
    st.sidebar.radio(
        t("app.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=_LANG_KEY,
        horizontal=True,
    )
