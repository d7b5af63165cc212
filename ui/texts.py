"""The app's visible texts in German and English, grouped by page.

Every entry is ``key: (German, English)``. German is the default and the
wording the browser tests match; English is a translation for planners
outside Germany. Values go in with :meth:`str.format` placeholders
(``{name}``, ``{km:g}``); both languages of an entry use the same ones.

Official German terms that are names stay German in English (AGS, the names
of Kreise and Gemeinden); the first use glosses them, e.g. "district (Kreis)".
Data values and messages produced by ``geo``, ``planning`` and
``integrationsatlas`` (error messages, validation problems, layer
descriptions, the council report) stay German; see :mod:`ui.i18n`.

This module is pure (no Streamlit), so :mod:`ui.views` can use it too.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # --- app frame, navigation, footer -------------------------------------------------------------
    "app.title": ("Integrationsatlas NRW", "Integration Atlas NRW"),
    "app.subtitle": (
        "Planungswerkzeug für die Integrationsinfrastruktur in Nordrhein-Westfalen",
        "Planning tool for integration infrastructure in North Rhine-Westphalia",
    ),
    "app.about": (
        "Integrationsatlas NRW – offenes Planungswerkzeug für die Integrationsinfrastruktur.",
        "Integration Atlas NRW – an open planning tool for integration infrastructure.",
    ),
    "app.language": ("Sprache", "Language"),
    "app.german_data": (
        "Datenwerte und Meldungen der Analyse sind deutsch.",
        "Data values and messages from the analysis (including the council report) are in German.",
    ),
    "nav.karte": ("Karte", "Map"),
    "nav.luecken": ("Versorgungslücken", "Coverage gaps"),
    "nav.standort": ("Standortplanung", "Site planning"),
    "nav.daten": ("Daten", "Data"),
    "nav.bericht": ("Bericht", "Report"),
    "footer.sources": ("Datenquellen", "Data sources"),
    "footer.map": ("Karte: Leaflet (lokal ausgeliefert, ohne Internet)", "Map: Leaflet (served locally, no internet)"),
    # --- shared by several pages --------------------------------------------------------------------
    "common.none": ("keine", "none"),
    "common.all_nrw": ("Ganz NRW", "All of NRW"),
    "common.area_option": ("{name} ({ags})", "{name} ({ags})"),
    "common.mode": ("Verkehrsmittel", "Mode of transport"),
    "common.done": ("Fertig", "Done"),
    "common.no_facilities": (
        "Es gibt noch keine Einrichtungen. Bitte auf der Seite »Daten« eine Datei importieren.",
        "There are no facilities yet. Please import a file on the “Data” page.",
    ),
    "common.planning_area": ("Planungsgebiet", "Planning area"),
    "common.sites": ("Standorte", "Sites"),
    "common.legend_facilities": ("Einrichtungen", "Facilities"),
    # --- injection hardening (issue 18): data shown as text in Markdown surfaces ---------------------
    "common.bold": ("**{text}**", "**{text}**"),
    "common.label_value": ("{label}: {value}", "{label}: {value}"),
    "common.retry": ("Erneut versuchen", "Try again"),
    "common.validation_error": (
        "{title} ({n} Problem(e)). Details in der Tabelle unten; bitte die Datei korrigieren und erneut hochladen.",
        "{title} ({n} problem(s)). Details in the table below; please correct the file and upload it again.",
    ),
    "map.legend": ("Legende", "Legend"),
    "map.legend_result": ("Legende Ergebnis", "Result legend"),
    "map.no_data": ("keine Angabe", "no data"),
    "map.background_loading": (
        "Hintergrund aus {file} wird aufbereitet (einmal je Datei) …",
        "Preparing the background from {file} (once per file) …",
    ),
    "level.kreis": ("Kreis", "District (Kreis)"),
    "level.gemeinde": ("Gemeinde", "Municipality (Gemeinde)"),
    "level.kreise": ("Kreise", "Districts (Kreise)"),
    "level.gemeinden": ("Gemeinden", "Municipalities (Gemeinden)"),
    "unit.minutes": ("Minuten", "minutes"),
    "uploads.osm": (
        "OSM-Auszug für Straßennetz und Gebäude (.osm.pbf, .osm oder .osm.bz2) oder Straßennetz der Stadt als "
        "Linien (GeoPackage, Shapefile als ZIP, GeoJSON); höchstens 300 MB",
        "OSM extract for the street network and buildings (.osm.pbf, .osm or .osm.bz2) or the city's street "
        "network as lines (GeoPackage, zipped Shapefile, GeoJSON); at most 300 MB",
    ),
    "uploads.gtfs": (
        "GTFS-Fahrplan (.zip, z. B. VRR, VRS, NWL, AVV oder DELFI; höchstens 300 MB)",
        "GTFS timetable (.zip, e.g. VRR, VRS, NWL, AVV or DELFI; at most 300 MB)",
    ),
    "uploads.other": ("Andere Datei hochladen", "Upload another file"),
    "upload.button": ("Datei wählen", "Choose file"),
    "upload.drop": ("oder hierher ziehen", "or drag it here"),
    # --- Karte ---------------------------------------------------------------------------------------
    "karte.indicator": ("Kennzahl für die Einfärbung", "Indicator for shading"),
    "karte.foreign_only_kreis": (
        "Der Ausländeranteil liegt nur je Kreis vor; für Gemeinden bitte die Ebene »Kreis« wählen.",
        "The share of foreign nationals is only available per district (Kreis); please choose the district level.",
    ),
    "karte.layer_for_rate": ("Einrichtungsart (je 10.000 Einw.)", "Facility type (per 10,000 inh.)"),
    "karte.search": ("Kreis oder Gemeinde suchen (Name oder AGS)", "Find a district or municipality (name or AGS)"),
    "karte.search_placeholder": ("z. B. Wesel oder 05170", "e.g. Wesel or 05170"),
    "karte.no_hit": (
        "Kein Kreis und keine Gemeinde passt zu »{query}«. Bitte Namen oder AGS (z. B. 05170) prüfen.",
        "No district or municipality matches “{query}”. Please check the name or the AGS (e.g. 05170).",
    ),
    "karte.hits": ("Treffer", "Matches"),
    "karte.level": ("Gebietsebene", "Area level"),
    "karte.profile": ("Gebietsprofil", "Area profile"),
    "karte.selected": ("Ausgewählt: {layer}", "Selected: {layer}"),
    "karte.click_hint": (
        "Klicken Sie auf ein Gebiet in der Karte oder suchen Sie es oben, um sein Profil zu sehen.",
        "Click an area on the map or search for it above to see its profile.",
    ),
    "karte.facilities": ("Einrichtungen im Gebiet", "Facilities in the area"),
    "karte.fig.ags": ("AGS", "AGS"),
    "karte.fig.kind": ("Art", "Type"),
    "karte.fig.area": ("Fläche", "Area"),
    "karte.fig.population": ("Einwohner", "Population"),
    "karte.fig.population_dated": ("Einwohner ({date})", "Population ({date})"),
    "karte.fig.population_mean_dated": ("Einwohner (Jahresmittel {date})", "Population (annual mean {date})"),
    "karte.fig.foreign": ("Ausländeranteil", "Share of foreign nationals"),
    "karte.filter": ("{layer} anzeigen ({column})", "{layer} to show ({column})"),
    "karte.filter_column": ("Verkehrsmittelklasse", "by mode"),
    "karte.ki_symbol": ("{layer} (Standort auf Ortsebene)", "{layer} (located at town level)"),
    "karte.choropleth": ("{layer}: {indicator}", "{layer}: {indicator}"),
    "stops.bahn": ("Bahn (S-Bahn, Regional-, Fernverkehr)", "Rail (S-Bahn, regional, long-distance)"),
    "stops.tram_ubahn": ("Straßenbahn/U-Bahn", "Tram/underground"),
    "stops.bus": ("Bus", "Bus"),
    "stops.sonstige": ("Sonstige", "Other"),
    "indicator.population": ("Einwohner", "Population"),
    "table.destatis_gv": ("Einwohner je Gemeinde (Destatis)", "Population per Gemeinde (Destatis)"),
    "table.zensus": ("Zensus 2022: Einwohner im Gitter", "Census 2022: population grid"),
    "indicator.foreign_share_pct": ("Ausländeranteil (%)", "Share of foreign nationals (%)"),
    "indicator.density_per_km2": ("Einwohner je km²", "Inhabitants per km²"),
    "indicator.facilities_per_10k": ("Einrichtungen je 10.000 Einw.", "Facilities per 10,000 inhabitants"),
    "indicator.share_covered": (
        "Versorgungsgrad (%) bis 10 km Luftlinie",
        "Coverage (%) within 10 km straight-line distance",
    ),
    "indicator.access_ratio": ("2SFCA: Angebot je 10.000 Einw. (10 km)", "2SFCA: supply per 10,000 residents (10 km)"),
    "indicator.gap_score": ("Lückenwert (0–1, höher = schlechter versorgt)", "Gap score (0–1, higher = worse served)"),
    # --- Versorgungslücken -------------------------------------------------------------------------
    "luecken.ranking": ("Am schlechtesten versorgte Gebiete", "Worst-served areas"),
    "luecken.rough": ("grobe Näherung, Nachfrage zu grob", "rough approximation, demand too coarse"),
    "luecken.curve": ("Versorgungsgrad nach Schwellenwert", "Coverage by threshold"),
    "luecken.demand": ("**Nachfrage:** {label}", "**Demand:** {label}"),
    "luecken.covered_total": ("Versorgt insgesamt", "Covered overall"),
    "luecken.covered_rough": ("Versorgt (grob)", "Covered (rough)"),
    "luecken.fix_below": ("Abhilfe unter der Karte.", "What helps: see below the map."),
    "luecken.fix": ("**Abhilfe:** {fix}", "**What helps:** {fix}"),
    "luecken.demand_points": ("Nachfragepunkte", "Demand points"),
    "luecken.facilities": ("Einrichtungen im Gebiet", "Facilities in the area"),
    "luecken.facilities_help": (
        "Für die Entfernungen zählen alle {n} Einrichtungen, auch die außerhalb des Gebiets: sie versorgen es mit.",
        "Distances count all {n} facilities, those outside the area too: they serve it as well.",
    ),
    "luecken.layer": ("Einrichtungsart", "Facility type"),
    "luecken.target": ("Zielgruppe", "Target group"),
    "luecken.area": ("Gebiet", "Area"),
    "luecken.by": ("Einheiten der Tabelle", "Units in the table"),
    # issue 24: area sets (Stadtteile, Sozialräume …) as levels
    "luecken.by_set": ("{title} (Gebietssatz {name})", "{title} (area set {name})"),
    "daten.sets": ("Gebietssatz importieren (Stadtteile, Sozialräume …)", "Import an area set (districts …)"),
    "daten.sets.help": (
        "Eine Flächendatei (GeoJSON, GeoPackage, Shapefile-ZIP) mit einer Schlüssel- und einer Namensspalte; "
        "sie wird geprüft (gültig, in NRW, Gemeinde, Überschneidungen, Lücken) und ist danach eine Gebietsebene "
        "wie Kreise und Gemeinden.",
        "A polygon file (GeoJSON, GeoPackage, shapefile ZIP) with a key and a name column; it is checked (valid, "
        "inside NRW, Gemeinde, overlaps, gaps) and is then a level like Kreise and Gemeinden.",
    ),
    "daten.sets.name": ("Name des Satzes (a–z, 0–9, -)", "Name of the set (a–z, 0–9, -)"),
    "daten.sets.title": ("Titel für Karten und Tabellen", "Title for maps and tables"),
    "daten.sets.title_example": ("Stadtteile Köln", "Cologne districts"),
    "daten.sets.import": ("Gebietssatz speichern", "Store area set"),
    "daten.sets.done": ("Gebietssatz {name} gespeichert: {n} Gebiete.", "Area set {name} stored: {n} areas."),
    "karte.sets": ("Kennzahlen je Gebiet eines Gebietssatzes", "Indicators per area of an area set"),
    "karte.sets.level": ("Gebietssatz", "Area set"),
    "karte.sets.sources": ("Quellen der Kennzahl: {sources}", "Sources of the indicator: {sources}"),
    "karte.sets.indicator": ("Kennzahl", "Indicator"),
    "karte.sets.date": ("Stichtag", "Reference date"),
    "karte.sets.before": ("Veränderung seit", "Change since"),
    "karte.sets.no_change": ("– keine –", "– none –"),
    "karte.sets.caption": (
        "Gespeicherte Kennzahlen (»integrationsatlas indicators compute --by SATZ«); grau: ohne Wert, weil die "
        "Nachfrage für das Gebiet zu grob ist oder es keine Nachfrage hat (siehe Hinweis im Tooltip).",
        "Stored indicators (»integrationsatlas indicators compute --by SET«); grey: no value, because the demand "
        "is too coarse for the area or it has none (see the note in the tooltip).",
    ),
    "luecken.measure": ("Maß", "Measure"),
    "luecken.threshold_km": ("Schwelle (km)", "Threshold (km)"),
    "luecken.threshold_min": ("Schwelle (Minuten)", "Threshold (minutes)"),
    "luecken.need_osm": (
        "Für Fahrzeiten wird ein Straßennetz gebraucht: bitte einen OSM-Auszug (.osm.pbf, z. B. von "
        "download.geofabrik.de, oder .osm/.osm.bz2) oder das Straßennetz der Stadt als Linien hochladen.",
        "Travel times need a street network: please upload an OSM extract (.osm.pbf, e.g. from "
        "download.geofabrik.de, or .osm/.osm.bz2) or the city's street network as lines.",
    ),
    "luecken.day": ("Verkehrstag", "Service day"),
    "luecken.window": ("Abfahrtsfenster (Median über jede Minute)", "Departure window (median over every minute)"),
    "luecken.need_gtfs": (
        "Für Fahrzeiten mit Bus und Bahn wird ein GTFS-Fahrplan gebraucht (VRR, VRS, NWL, AVV oder "
        "der bundesweite DELFI-Fahrplan).",
        "Travel times by public transport need a GTFS timetable (VRR, VRS, NWL, AVV or the nationwide "
        "DELFI timetable).",
    ),
    "luecken.unit.km": ("Entfernung (km, Luftlinie)", "Distance (km, straight line)"),
    "luecken.unit.min": ("Fahrzeit (Minuten)", "Travel time (minutes)"),
    "luecken.target.total": ("Gesamtbevölkerung", "Total population"),
    "luecken.target.foreign": ("Ausländische Bevölkerung", "Foreign nationals"),
    "luecken.target.u3": ("Kinder unter 3 (Kita U3, Zensus)", "Children under 3 (day care, census)"),
    "luecken.target.kita_ue3": ("Kinder 3–5 (Kita Ü3, Zensus)", "Children aged 3–5 (day care, census)"),
    "luecken.target.grundschule": (
        "Kinder 6–9 (Grundschule/OGS, Zensus)",
        "Children aged 6–9 (primary school/OGS, census)",
    ),
    "luecken.target.u18": ("unter 18 (Zensus)", "under 18 (census)"),
    "luecken.coverage_layer": ("Versorgungsgrad ({units})", "Coverage ({units})"),
    "luecken.isochrones_for": ("Isochronen für Einrichtungen", "Isochrones for facilities"),
    "luecken.isochrones_placeholder": ("bitte wählen (bis zu 10)", "choose (up to 10)"),
    "luecken.isochrones_layer": ("Isochronen {minutes:g} min", "Isochrones {minutes:g} min"),
    "luecken.isochrones": ("Isochronen", "Isochrones"),
    "luecken.legend": ("Versorgt bis {threshold:g} {unit} (%)", "Covered within {threshold:g} {unit} (%)"),
    "luecken.legend_km": ("km Luftlinie", "km straight-line distance"),
    "luecken.cell_legend": (
        "Weg zur nächsten Einrichtung je Zelle ({unit})",
        "Distance or travel time to the nearest facility per cell ({unit})",
    ),
    "luecken.threshold_axis": ("Schwelle ({unit})", "Threshold ({unit})"),
    "luecken.dashed": (
        "Gestrichelt: gewählte Schwelle {threshold:g} {unit}.",
        "Dashed: chosen threshold {threshold:g} {unit}.",
    ),
    # --- Standortplanung ----------------------------------------------------------------------------
    "standort.run": ("Standorte berechnen", "Compute sites"),
    "standort.candidates": ("Eigene Kandidaten (Klick in die Karte)", "Own candidates (click on the map)"),
    "standort.scenarios": ("Szenarien vergleichen", "Compare scenarios"),
    "standort.result": ("Ergebnis", "Result"),
    "standort.comparison": ("Szenarienvergleich", "Scenario comparison"),
    "standort.model.mclp": (
        "Maximale Abdeckung (MCLP): wählt p neue Standorte so, dass möglichst viele Menschen einen "
        "Standort innerhalb des Radius bzw. der Fahrzeit erreichen.",
        "Maximal coverage (MCLP): chooses p new sites so that as many people as possible reach a site "
        "within the radius or travel time.",
    ),
    "standort.model.lscp": (
        "Minimale Standortzahl (LSCP): wie viele Standorte braucht es mindestens, damit alle erreichbaren "
        "Menschen versorgt sind?",
        "Minimum number of sites (LSCP): how many sites are needed at least so that everyone within reach is covered?",
    ),
    "standort.model.pmedian": (
        "p-Median: wählt p neue Standorte so, dass der durchschnittliche Weg (gewichtet nach Einwohnern) "
        "am kürzesten ist.",
        "p-median: chooses p new sites so that the average distance (weighted by population) is as short as possible.",
    ),
    "standort.area": ("Planungsgebiet (Kreis oder Gemeinde)", "Planning area (district or municipality)"),
    "standort.model": ("Modell", "Model"),
    "standort.p": ("Neue Standorte (p)", "New sites (p)"),
    "standort.use_time": ("Fahrzeit statt Entfernung", "Travel time instead of distance"),
    "standort.minutes": ("Minuten", "Minutes"),
    "standort.need_osm": (
        "Für Fahrzeiten bitte einen OSM-Auszug des Gebiets hochladen (.osm.pbf von Geofabrik).",
        "For travel times please upload an OSM extract of the area (.osm.pbf from Geofabrik).",
    ),
    "standort.need_gtfs": (
        "Für Bus und Bahn bitte einen GTFS-Fahrplan hochladen (Verkehrstag: nächster Dienstag, "
        "Abfahrt 07:00–09:00, Median über jede Minute).",
        "For public transport please upload a GTFS timetable (service day: next Tuesday, departures "
        "07:00–09:00, median over every minute).",
    ),
    "standort.radius": ("Radius (km Luftlinie)", "Radius (km, straight line)"),
    "standort.fixed": ("Bestehende Standorte (bleiben offen)", "Existing sites (stay open)"),
    "standort.places": ("Kandidaten aus Ebenen", "Candidates from layers"),
    "standort.clusters": ("Kandidaten aus Nachfrage-Schwerpunkten", "Candidates from demand centres"),
    "standort.more": ("Weitere Kandidaten und Bedingungen", "More candidates and constraints"),
    "standort.grid": (
        "Raster-Kandidaten, Abstand in km (0 = automatisch)",
        "Grid candidates, spacing in km (0 = automatic)",
    ),
    "standort.min_dist": ("Mindestabstand zu bestehenden Standorten (m)", "Minimum distance to existing sites (m)"),
    "standort.min_gemeinde": (
        "Mindestens je Gemeinde (braucht geladene Gemeinden)",
        "At least per municipality (needs loaded municipalities)",
    ),
    "standort.use_budget": ("Budget verwenden", "Use a budget"),
    "standort.budget": ("Budget (EUR)", "Budget (EUR)"),
    "standort.existing": ("Bestehend: {layer}", "Existing: {layer}"),
    "standort.own_point": ("Eigener Punkt {i}", "Own point {i}"),
    "standort.own_candidates": ("Eigene Kandidaten", "Own candidates"),
    "standort.click_hint": (
        "Klicken Sie in die Karte, um eigene Kandidaten hinzuzufügen.",
        "Click on the map to add your own candidates.",
    ),
    "standort.clear": ("Eigene Kandidaten löschen", "Delete own candidates"),
    "standort.running": ("Standorte werden berechnet …", "Computing sites …"),
    "standort.aborted": ("Berechnung abgebrochen", "Computation aborted"),
    "standort.finished": ("Berechnung abgeschlossen", "Computation finished"),
    "standort.proposal": ("Vorschlag für {area}: {model}", "Proposal for {area}: {model}"),
    "standort.model_label.mclp": ("Maximale Abdeckung (MCLP)", "Maximal coverage (MCLP)"),
    "standort.model_label.lscp": (
        "Minimale Standortzahl für volle Abdeckung (LSCP)",
        "Minimum number of sites for full coverage (LSCP)",
    ),
    "standort.model_label.pmedian": ("Minimale mittlere Entfernung (p-Median)", "Minimum mean distance (p-median)"),
    "standort.covered_before": ("Versorgt vorher", "Covered before"),
    "standort.covered_after": ("Versorgt nachher", "Covered after"),
    "standort.points": ("{points} Prozentpunkte", "{points} percentage points"),
    "standort.new_sites": ("Neue Standorte", "New sites"),
    "standort.existing_sites": ("Bestehende Standorte", "Existing sites"),
    "standort.plan_caption": (
        "Schwelle: {threshold} · Status des Lösers: {status} · {n} Kandidaten",
        "Threshold: {threshold} · solver status: {status} · {n} candidates",
    ),
    "standort.threshold_minutes": ("{minutes:g} Minuten {mode}", "{minutes:g} minutes {mode}"),
    "standort.threshold_km": ("{km:g} km Luftlinie", "{km:g} km straight-line distance"),
    "standort.other_candidates": ("Weitere Kandidaten", "Other candidates"),
    "standort.candidates_short": ("Kandidaten", "Candidates"),
    "standort.proposed": ("Vorgeschlagene Standorte", "Proposed sites"),
    "standort.numbers": (
        "Zahlen = Reihenfolge der Auswahl; »B« = bestehender Standort.",
        "Numbers = order of selection; “B” = existing site (bestehend).",
    ),
    "standort.why": ("**Warum diese Standorte?**", "**Why these sites?**"),
    "standort.alternatives": ("{rank}. {name}: Alternativen", "{rank}. {name}: alternatives"),
    "standort.before_after": (
        "**Versorgung vorher und nachher** (blau = erreicht, orange = nicht erreicht)",
        "**Coverage before and after** (blue = reached, orange = not reached)",
    ),
    "standort.before": ("Vorher", "Before"),
    "standort.after": ("Nachher", "After"),
    "standort.demand_before": ("Nachfrage vorher", "Demand before"),
    "standort.demand_after": ("Nachfrage nachher", "Demand after"),
    "standort.curve": ("**Versorgung je Anzahl neuer Standorte**", "**Coverage by number of new sites**"),
    "standort.no_curve": (
        "Keine Kurve: für keine Standortzahl liegt ein Ergebnis vor.",
        "No curve: there is no result for any number of sites.",
    ),
    "standort.n_new_axis": ("Anzahl neuer Standorte", "Number of new sites"),
    "standort.threshold": ("Schwelle", "Threshold"),
    "standort.equity": (
        "**Wer bleibt weit weg?** (Anteil über {threshold}, 90 % erreichen den nächsten Standort in höchstens …)",
        "**Who stays far away?** (share beyond {threshold}; 90 % reach the nearest site within at most …)",
    ),
    "standort.save_as": ("Als Szenario speichern unter", "Save as scenario named"),
    "standort.save_placeholder": ("z. B. Aachen 3 Treffpunkte 5 km", "e.g. Aachen 3 meeting points 5 km"),
    "standort.overwrite": ("Überschreiben", "Overwrite"),
    "standort.save": ("Speichern", "Save"),
    "standort.saved": ("Szenario »{name}« gespeichert.", "Scenario “{name}” saved."),
    "standort.need_two": (
        "Speichern Sie mindestens zwei Szenarien für dasselbe Gebiet, um sie hier nebeneinander zu vergleichen.",
        "Save at least two scenarios for the same area to compare them side by side here.",
    ),
    "standort.scenario_a": ("Szenario A", "Scenario A"),
    "standort.scenario_b": ("Szenario B", "Scenario B"),
    "standort.scenario_caption": ("Szenario {key}: {name}", "Scenario {key}: {name}"),
    "standort.cmp_question": (
        "Die Szenarien stellen verschiedene Fragen ({differences}): »vorher« ist das von A, und der Unterschied "
        "mischt die Standorte mit der Frage.",
        "The scenarios ask different questions ({differences}): “before” is A's, and the difference mixes the sites "
        "with the question.",
    ),
    "standort.cmp_rough": ("»{name}«: nur grobe Näherung. {message}", "“{name}”: rough approximation. {message}"),
    "standort.diff_gemeinde": ("**Differenzkarte je Gemeinde**", "**Difference map per municipality**"),
    "standort.difference": ("Unterschied", "Difference"),
    "standort.diff_legend": (
        "Unterschied »{b}« − »{a}« (Prozentpunkte)",
        "Difference “{b}” − “{a}” (percentage points)",
    ),
    "standort.diff_points": (
        "**Differenzkarte: Nachfragepunkte nach Versorgung in A (»{a}«) und B (»{b}«)**",
        "**Difference map: demand points by coverage in A (“{a}”) and B (“{b}”)**",
    ),
    "standort.demand_points": ("Nachfragepunkte", "Demand points"),
    "standort.demand": ("Nachfrage", "Demand"),
    "standort.per_gemeinde_note": (
        "Je Gemeinde, sobald Gemeindegrenzen geladen sind (Seite »Daten«).",
        "Per municipality once municipal boundaries are loaded (page “Data”).",
    ),
    "standort.no_diff_map": (
        "Eine Differenzkarte erscheint für Pläne nach Luftlinie oder je Gemeinde, sobald "
        "Gemeindegrenzen geladen sind (Seite »Daten«).",
        "A difference map appears for straight-line plans, or per municipality once municipal "
        "boundaries are loaded (page “Data”).",
    ),
    "standort.change.0": ("nur in B versorgt", "covered only in B"),
    "standort.change.1": ("nur in A versorgt", "covered only in A"),
    "standort.change.2": ("in beiden versorgt", "covered in both"),
    "standort.change.3": ("in keinem versorgt", "covered in neither"),
    # --- Daten ---------------------------------------------------------------------------------------
    "daten.upload": ("Datei hochladen", "Upload a file"),
    "daten.population": ("Bevölkerung (Gemeinden, Zensus)", "Population (municipalities, census)"),
    "daten.inventory": ("Bestand aller Ebenen", "Inventory of all layers"),
    "daten.fetch": ("Amtliche oder OSM-Daten abrufen", "Fetch official or OSM data"),
    "daten.batches": ("Importe verwalten", "Manage imports"),
    "daten.err.import": ("Import", "Import"),
    "daten.err.fetch": ("Abruf", "Fetch"),
    "daten.err.inventory": ("Bestand", "Inventory"),
    "daten.err.batches": ("Importe", "Imports"),
    "daten.mode.append": ("Anhängen (zu den vorhandenen Daten)", "Append (to the existing data)"),
    "daten.mode.replace": (
        "Ersetzen (frühere Importe bleiben wiederherstellbar)",
        "Replace (earlier imports stay restorable)",
    ),
    "daten.invalid.keep_valid": (
        "Gültige Zeilen übernehmen, fehlerhafte auslassen",
        "Keep the valid rows, leave out faulty ones",
    ),
    "daten.invalid.reject": (
        "Ganze Datei ablehnen, wenn ein Fehler vorkommt",
        "Reject the whole file if any error occurs",
    ),
    "daten.formats": (
        "CSV (Trennzeichen ; oder ,), Excel (XLSX), GeoJSON, GeoPackage oder gezipptes Shapefile. "
        "Pflichtspalten: **id**, **name** und eine Lage (Längen-/Breitengrad, UTM-32-Koordinaten, "
        "Geometrie oder PLZ). Höchstens {mb} MB.",
        "CSV (separator ; or ,), Excel (XLSX), GeoJSON, GeoPackage or zipped shapefile. "
        "Required columns: **id**, **name** and a location (longitude/latitude, UTM 32 coordinates, "
        "geometry or postcode (PLZ)). At most {mb} MB.",
    ),
    "daten.layer": ("Ebene", "Layer"),
    "daten.columns": ("Spalten: {columns}", "Columns: {columns}"),
    "daten.required": ("Pflicht", "required"),
    "daten.file": ("Datei", "File"),
    "daten.existing": ("Vorhandene Daten", "Existing data"),
    "daten.on_invalid": ("Bei fehlerhaften Zeilen", "If rows are faulty"),
    "daten.rows_in": ("Zeilen in der Datei", "Rows in the file"),
    "daten.rows_kept": ("Gültige Zeilen", "Valid rows"),
    "daten.problems": ("Probleme", "Problems"),
    "daten.report": (
        "Prüfbericht: {n} Problem(e) in {file}. Jede Zeile nennt Datei, Zeile, Spalte und was zu tun ist.",
        "Validation report: {n} problem(s) in {file}. Each row names the file, row, column and what to do.",
    ),
    "daten.no_problems": ("{file}: keine Probleme gefunden.", "{file}: no problems found."),
    "daten.preview": (
        "**Vorschau** (die ersten {n} gültigen Zeilen, wie sie gespeichert werden)",
        "**Preview** (the first {n} valid rows as they will be stored)",
    ),
    "daten.import": ("Importieren", "Import"),
    "daten.imported": (
        "{rows} Zeile(n) in »{layer}« gespeichert (Stapel {batch}). Karte und Analysen verwenden die neuen "
        "Daten sofort.",
        "{rows} row(s) saved in “{layer}” (batch {batch}). The map and the analyses use the new data right away.",
    ),
    "daten.population_help": (
        "Einwohner je Gemeinde für die Nachfrage (Gemeindeebene und 100-m-Schätzung aus OSM-Gebäuden): das "
        "»Gemeindeverzeichnis – Auszug« von Destatis (XLSX oder CSV, wie veröffentlicht) oder eine Tabelle mit "
        "einer AGS- und einer Einwohnerspalte.",
        "Population per municipality for the demand (municipality level and the 100 m estimate from OSM "
        "buildings): the “Gemeindeverzeichnis – Auszug” (municipality directory) from Destatis (XLSX or CSV, "
        "as published) or a table with an AGS column and a population column.",
    ),
    "daten.population_file": ("Gemeindetabelle (.xlsx, .csv)", "Municipality table (.xlsx, .csv)"),
    "daten.population_import": ("Einwohner übernehmen", "Import population"),
    "daten.population_done": (
        "{n} Gemeinden mit {population} Einwohnern übernommen (Stichtag {date}: {source}).",
        "{n} municipalities with {population} inhabitants imported (reference date {date}: {source}).",
    ),
    "daten.set_population_help": (
        "Einwohner je Gebiet eines Gebietssatzes, z. B. die Zahlen der Stadt je Stadtteil: CSV oder XLSX mit der "
        "Schlüsselspalte des Satzes, »einwohner« und wahlweise »unter3«, »a3bis5«, »a6bis9«, »unter18«, »auslaender« "
        "(bei mehreren Jahren in »jahr« das Jahr unten als Stand angeben). Fragen zu diesem Gebietssatz nutzen die "
        "Einwohner danach, gleichmäßig über die Fläche jedes Gebiets verteilt (Näherung), mit dem Straßennetz der "
        "Stadt als Linien entlang seiner Straßen (Näherung) oder, mit einer OSM-Datei, auf seine Wohngebäude.",
        "Residents per area of an area set, e.g. the city's figures per district: CSV or XLSX with the set's key "
        "column, »einwohner« and optionally »unter3«, »a3bis5«, »a6bis9«, »unter18«, »auslaender« (with several "
        "years in »jahr«, give the year below as the reference date). Questions about the set then use them, "
        "spread evenly over each area (approximation), along its streets with the city's street network as lines "
        "(approximation) or, with an OSM file, over its residential buildings.",
    ),
    "daten.set_population_no_set": (
        "Noch kein Gebietssatz geladen: zuerst im Reiter »Hochladen« einen Gebietssatz importieren.",
        "No area set loaded yet: import one in the »Upload« tab first.",
    ),
    "daten.sets.level": ("Gebietssatz", "Area set"),
    "daten.set_population_file": ("Einwohnertabelle (CSV, XLSX)", "Residents table (CSV, XLSX)"),
    "daten.set_population_import": ("Einwohner je Gebiet speichern", "Store residents per area"),
    "daten.set_population_done": (
        "{n} Gebiete von {name} mit {population} Einwohnern gespeichert (Stand {date}).",
        "{n} areas of {name} with {population} residents stored (reference date {date}).",
    ),
    "daten.set_population_recomputed": ("Kennzahlen neu berechnet: {what}", "Indicators recomputed: {what}"),
    "daten.zensus_help": (
        "Zensus-2022-Gitter (Destatis, 100 m oder 1 km) als beste Nachfrage: die ZIP- oder CSV-Dateien wie "
        "veröffentlicht. Themen (Einwohner, Ausländeranteil, Altersgruppen) auch einzeln nacheinander; jedes "
        "wird mit dem schon gespeicherten Gitter verbunden.",
        "Census 2022 grid (Destatis, 100 m or 1 km) as the best demand: the ZIP or CSV files as published. "
        "Themes (population, foreign share, age groups) may also come one after another; each is joined with "
        "the grid already stored.",
    ),
    "daten.zensus_file": ("Zensus-Gitterdateien (.zip, .csv)", "Census grid files (.zip, .csv)"),
    "daten.zensus_import": ("Zensus-Gitter übernehmen", "Import census grid"),
    "daten.zensus_done": (
        "{cells} Gitterzellen ({resolution} m) in NRW mit {population} Einwohnern gespeichert; Themen: {themes}.",
        "{cells} grid cells ({resolution} m) in NRW with {population} inhabitants stored; themes: {themes}.",
    ),
    "daten.unknown": ("unbekannt", "unknown"),
    "daten.fetch_help": (
        "Amtliche Gemeindegrenzen (BKG VG250), Einwohner (Destatis), Schulen (MSB NRW) oder Einrichtungen aus "
        "OpenStreetMap für einen Kreis abrufen und mit Quelle, Abrufzeit und Lizenz speichern. "
        "Dafür ist eine Internetverbindung nötig.",
        "Fetch official municipal boundaries (BKG VG250), population (Destatis), schools (MSB NRW) or "
        "facilities from OpenStreetMap for a district and store them with source, time of retrieval and "
        "licence. This needs an internet connection.",
    ),
    "daten.offline": (
        "Online-Abrufe sind ausgeschaltet (INTEGRATIONSATLAS_OFFLINE=1): ohne Internet bitte Dateien "
        "über »Datei hochladen« importieren.",
        "Online fetching is switched off (INTEGRATIONSATLAS_OFFLINE=1): without internet, please import "
        "files via “Upload a file”.",
    ),
    "daten.source": ("Quelle", "Source"),
    "daten.kreis": ("Kreis", "District (Kreis)"),
    "daten.licence": ("Lizenz: {licence} – {attribution}", "Licence: {licence} – {attribution}"),
    "daten.fetch_run": ("Abrufen", "Fetch"),
    "daten.connecting": ("Verbindung wird aufgebaut …", "Connecting …"),
    "daten.download_of": ("Download: {done:.1f} von {total:.1f} MB", "Download: {done:.1f} of {total:.1f} MB"),
    "daten.download": ("Download: {done:.1f} MB", "Download: {done:.1f} MB"),
    "daten.fetched": ("{layer}: {kept} von {total} Zeilen gespeichert.", "{layer}: {kept} of {total} rows saved."),
    "daten.nothing": (
        "Noch nichts importiert oder abgerufen. Die eingebetteten Daten (Kreise, KI, Orte) sind immer da.",
        "Nothing imported or fetched yet. The embedded data (districts, Kommunale Integrationszentren (KI), "
        "places) are always there.",
    ),
    "daten.batch_label": ("{batch} – {file} ({status})", "{batch} – {file} ({status})"),
    "daten.active": ("aktiv", "active"),
    "daten.inactive": ("gelöscht/ersetzt", "deleted/replaced"),
    "daten.batch": ("Stapel", "Batch"),
    "daten.delete": ("Löschen (wiederherstellbar)", "Delete (restorable)"),
    "daten.restore": ("Wiederherstellen", "Restore"),
    # --- Bericht -------------------------------------------------------------------------------------
    "bericht.council": ("Bericht für Rat und Ausschuss", "Report for council and committee"),
    "bericht.export": ("Export von Ebenen und Ergebnissen", "Export of layers and results"),
    "bericht.intro": (
        "Ein Bericht für Rat und Ausschüsse mit Kennzahlen, Karten (fester Ausschnitt je Gebiet), "
        "Tabellen, Methode und Datenquellen – und Exporte jeder Ebene und jedes Ergebnisses.",
        "A report for council and committees with key figures, maps (a fixed extent per area), tables, "
        "method and data sources – and exports of every layer and every result. The report itself is in German.",
    ),
    "bericht.format.pdf": ("PDF (zum Drucken und Versenden)", "PDF (for printing and sending)"),
    "bericht.format.html": ("HTML (eine Datei, im Browser lesbar)", "HTML (one file, readable in a browser)"),
    "bericht.crs.EPSG:25832": ("EPSG:25832 – ETRS89 / UTM 32N (Meter)", "EPSG:25832 – ETRS89 / UTM 32N (metres)"),
    "bericht.crs.EPSG:4326": ("EPSG:4326 – WGS 84 (Längen-/Breitengrad)", "EPSG:4326 – WGS 84 (longitude/latitude)"),
    "bericht.area": (
        "Gebiet (Land, Regierungsbezirk, Kreis oder Gemeinde)",
        "Area (state, Regierungsbezirk, district or municipality)",
    ),
    "bericht.layer": ("Einrichtungsart für die Versorgung", "Facility type for coverage"),
    "bericht.threshold": ("Schwelle (km, Luftlinie)", "Threshold (km, straight line)"),
    "bericht.scenario": ("Szenario (optional)", "Scenario (optional)"),
    "bericht.no_scenario": ("kein Szenario", "no scenario"),
    "bericht.no_matching": ("kein passendes Szenario", "no matching scenario"),
    "bericht.format": ("Format", "Format"),
    "bericht.build": ("Bericht erstellen", "Create report"),
    "bericht.building": (
        "Bericht wird erstellt: Versorgung berechnen, Karten zeichnen, Dokument setzen …",
        "Creating the report: computing coverage, drawing maps, typesetting the document …",
    ),
    "bericht.choose": (
        "Einstellungen wählen und »Bericht erstellen« klicken; danach erscheint der Download.",
        "Choose the settings and click “Create report”; the download appears afterwards.",
    ),
    "bericht.download": ("{fmt} herunterladen ({mb} MB)", "Download {fmt} ({mb} MB)"),
    "bericht.ready": ("Bericht »{name}« ist fertig.", "Report “{name}” is ready."),
    "bericht.source.layer": ("Ebene: {layer}", "Layer: {layer}"),
    "bericht.source.gaps": (
        "Ergebnis: Versorgungslücken ({layer}, {km}, Gebiet {area})",
        "Result: coverage gaps ({layer}, {km}, area {area})",
    ),
    "bericht.source.scenario": ("Szenario: Standorte »{name}«", "Scenario: sites “{name}”"),
    "bericht.source.plan": (
        "Ergebnis: aktuelle Standortplanung (diese Sitzung, nicht gespeichert)",
        "Result: current site plan (this session, not saved)",
    ),
    "bericht.content": ("Inhalt", "Content"),
    "bericht.crs": ("Koordinatensystem", "Coordinate reference system"),
    "bericht.geojson_crs": ("GeoJSON ist nach RFC 7946 immer EPSG:4326.", "GeoJSON is always EPSG:4326 (RFC 7946)."),
    "bericht.exporting": ("Export wird erstellt …", "Creating the export …"),
    "bericht.download_file": ("{name} herunterladen", "Download {name}"),
    "bericht.attribution": (
        "Jede Datei enthält die Quellenangaben: GeoPackage als Tabelle »quellen« und Ebenenbeschreibung, "
        "GeoJSON im Element »attribution«, CSV in der Spalte »quellenangabe« (Semikolon, Dezimalkomma, "
        "für Excel), Excel im Blatt »Quellen«.",
        "Every file carries its source attribution: GeoPackage as the table “quellen” and the layer "
        "description, GeoJSON in the member “attribution”, CSV in the column “quellenangabe” (semicolon, "
        "decimal comma, for Excel), Excel in the sheet “Quellen”.",
    ),
    "export.gpkg": ("GeoPackage (.gpkg)", "GeoPackage (.gpkg)"),
    "export.geojson": ("GeoJSON (.geojson)", "GeoJSON (.geojson)"),
    "export.csv": ("CSV für Excel (.csv)", "CSV for Excel (.csv)"),
    "export.xlsx": ("Excel-Arbeitsmappe (.xlsx)", "Excel workbook (.xlsx)"),
    # --- column headers of the display tables (ui.views) --------------------------------------------
    "col.rank": ("Rang", "Rank"),
    "col.area": ("Gebiet", "Area"),
    "col.covered_pct": ("Versorgt (%)", "Covered (%)"),
    "col.pop_beyond": ("Einw. außerhalb", "Inhabitants beyond"),
    "col.mean_cost": ("Mittlere Entfernung ({unit})", "Mean distance ({unit})"),
    "col.gap_score": ("Lückenwert", "Gap score"),
    "col.access": ("2SFCA je 10.000 Einw.", "2SFCA per 10,000 inh."),
    "col.no": ("Nr.", "No."),
    "col.site": ("Standort", "Site"),
    "col.origin": ("Herkunft", "Origin"),
    "col.gemeinde": ("Gemeinde", "Municipality"),
    "col.gain_people": ("Zusätzlich erreicht (Personen)", "Additionally reached (people)"),
    "col.gain_pct": ("Zusätzlich erreicht (%)", "Additionally reached (%)"),
    "col.share_after": ("Versorgt danach (%)", "Covered afterwards (%)"),
    "col.gemeinde_ags": ("Gemeinde (AGS)", "Municipality (AGS)"),
    "col.before": ("Vorher (%)", "Before (%)"),
    "col.after_a": ("A nachher (%)", "A after (%)"),
    "col.after_b": ("B nachher (%)", "B after (%)"),
    "col.b_minus_a": ("B − A (Prozentpunkte)", "B − A (percentage points)"),
    "col.new_a": ("Neu A", "New A"),
    "col.new_b": ("Neu B", "New B"),
    "col.lat": ("Breite", "Latitude"),
    "col.lon": ("Länge", "Longitude"),
    "col.batch": ("Stapel", "Batch"),
    "col.layer": ("Ebene", "Layer"),
    "col.file": ("Datei", "File"),
    "col.source": ("Quelle", "Source"),
    "col.licence": ("Lizenz", "Licence"),
    "col.imported_at": ("Zeitpunkt (UTC)", "Time (UTC)"),
    "col.mode": ("Modus", "Mode"),
    "col.rows": ("Zeilen", "Rows"),
    "col.rejected": ("abgelehnt", "rejected"),
    "col.active": ("aktiv", "active"),
    "col.id": ("Kennung", "ID"),
    "col.count": ("Anzahl", "Count"),
    "col.as_of": ("Stand", "As of"),
    "col.precision": ("Lagegenauigkeit", "Location precision"),
    "col.note": ("Hinweis", "Note"),
    "col.demand": ("Nachfrage", "Demand"),
    "col.cost_reduction": ("Verkürzung des Wegs", "Reduction of distance"),
    "col.kind": ("Art", "Type"),
    "col.name": ("Name", "Name"),
    "col.operator": ("Träger", "Operator"),
    "col.place": ("Ort", "Place"),
    "col.row": ("Zeile", "Row"),
    "col.column": ("Spalte", "Column"),
    "col.problem": ("Problem", "Problem"),
    "col.fix": ("Was tun?", "What to do?"),
    "col.beyond_before": ("über der Schwelle vorher (%)", "beyond the threshold before (%)"),
    "col.beyond_after": ("über der Schwelle nachher (%)", "beyond the threshold after (%)"),
    "col.p90_before": ("90-%-Wert vorher ({unit})", "90th percentile before ({unit})"),
    "col.p90_after": ("90-%-Wert nachher ({unit})", "90th percentile after ({unit})"),
    # --- one request, one pipeline (issue 19): extent, resolution, people, sources ---
    "luecken.covered_people": (
        "{people} Personen der Zielgruppe erreichen eine Einrichtung innerhalb der Schwelle.",
        "{people} people of the target group reach a facility within the threshold.",
    ),
    "luecken.covered_line": (
        "Versorgt: {share} – {people} Personen der Zielgruppe innerhalb der Schwelle.",
        "Covered: {share} – {people} people of the target group within the threshold.",
    ),
    "luecken.extent": (
        "**Nur ein Ausschnitt:** {caption}. Alle Zahlen und Karten gelten nur für diesen Ausschnitt.",
        "**Only part of the area:** {caption}. All figures and maps refer to this part only.",
    ),
    "luecken.in_extent": ("(nur {name})", "(only {name})"),
    "standort.extent": (
        "**Nur ein Ausschnitt:** {caption}. Der Plan gilt nur für diesen Ausschnitt.",
        "**Only part of the area:** {caption}. The plan covers this part only.",
    ),
    "standort.resolution": (
        "**{message}** Die Abdeckung ist nur eine grobe Näherung. {fix}",
        "**{message}** Coverage is only a rough approximation. {fix}",
    ),
    "bericht.measure": ("Maß", "Measure"),
    "bericht.unit.km": ("Luftlinie (km)", "Straight line (km)"),
    "bericht.unit.min": ("Fahrzeit (min)", "Travel time (min)"),
    "bericht.threshold_min": ("Schwelle (Minuten)", "Threshold (minutes)"),
    "bericht.scenario_request": (
        "Der Bericht verwendet die Anfrage des Szenarios: {request}",
        "The report uses the scenario's request: {request}",
    ),
    "daten.publisher": ("Herausgeber", "Publisher"),
    "daten.licence_input": ("Lizenz", "Licence"),
    "daten.as_of": ("Stand der Daten (JJJJ-MM-TT oder JJJJ)", "Reference date of the data (YYYY-MM-DD or YYYY)"),
    "daten.known_source": ("Bekannte Quelle", "Known source"),
    "daten.own_source": ("eigene Angabe", "own entry"),
    # --- decision figures (issue 23): costs, funding, frontier, places, intervals, variants -----------------
    "decisions.costs_box": ("Kosten, Förderung und Budget", "Costs, funding and budget"),
    "decisions.use_costs": ("Kosten rechnen", "Compute costs"),
    "decisions.costs_off": (
        "Ohne Kosten: keine Euro je erreichter Person, kein Budget und keine Budget-Grenze.",
        "Without costs: no euros per person reached, no budget and no budget frontier.",
    ),
    "decisions.yearly": ("Jährliche Kosten je neuem Standort (EUR)", "Yearly cost per new site (EUR)"),
    "decisions.yearly_help": (
        "Die eigenen Zahlen des Kreises (Miete, Personal, Betrieb); es sind keine Werte eingebaut.",
        "The council's own figures (rent, staff, running costs); no values are built in.",
    ),
    "decisions.one_off": ("Einmalige Kosten je neuem Standort (EUR)", "One-off cost per new site (EUR)"),
    "decisions.by_type": ("Kosten je Standorttyp", "Costs per site type"),
    "decisions.by_type_help": (
        "Vorbelegt mit den Kosten oben; geänderte Werte gelten für diesen Typ.",
        "Pre-filled with the costs above; changed values apply to that type.",
    ),
    "decisions.type_yearly": ("{kind}: jährlich (EUR)", "{kind}: yearly (EUR)"),
    "decisions.type_one_off": ("{kind}: einmalig (EUR)", "{kind}: one-off (EUR)"),
    "decisions.programme": ("Förderprogramm", "Funding programme"),
    "decisions.figure_none": ("keine Angabe", "not given"),
    "decisions.figure.land_rate": ("Fördersatz (Anteil, 0–1)", "Funding rate (share, 0-1)"),
    "decisions.figure.cap_per_post": ("Höchstens je Stelle und Jahr (EUR)", "At most per post and year (EUR)"),
    "decisions.figure.running_per_post": ("Sachkosten je Stelle (EUR)", "Running costs per post (EUR)"),
    "decisions.figure.staff_cap_per_post": ("Personalkosten-Deckel je Stelle (EUR)", "Staff cost cap per post (EUR)"),
    "decisions.figure.min_per_measure": ("Mindestförderung je Maßnahme (EUR)", "Minimum funding per measure (EUR)"),
    "decisions.figure.allocation_per_year": (
        "Zuweisung des Kreises im Jahr (EUR)",
        "Yearly allocation of the district (EUR)",
    ),
    "decisions.basis": ("Budget zählt", "The budget counts"),
    "decisions.basis.yearly": ("jährliche Kosten", "yearly cost"),
    "decisions.basis.one_off": ("einmalige Kosten", "one-off cost"),
    "decisions.basis.annualised": ("jährlich mit verteilten Einmalkosten", "yearly with one-off cost spread"),
    "decisions.years": ("Laufzeit (Jahre)", "Term (years)"),
    "decisions.frontier_points": ("Budget-Grenze: Anzahl Budgets", "Budget frontier: number of budgets"),
    "decisions.frontier_help": (
        "Erreichte Menschen gegen das Budget, jeder Punkt exakt gelöst (0: keine Grenze).",
        "People reached against budget, each point solved exactly (0: no frontier).",
    ),
    "decisions.places_box": ("Plätze", "Places"),
    "decisions.places_per_site": ("Plätze je neuem Standort", "Places per new site"),
    "decisions.unknown": ("unbekannt", "unknown"),
    "decisions.place_share": (
        "Anteil {label} an den Einwohnern (%)",
        "Share of the residents who need a place, {label} (%)",
    ),
    "decisions.place_share_help": (
        "Aus der eigenen Statistik, solange die Zensus-Altersgruppen nicht geladen sind; leer: Plätze nur mit "
        "Zensus oder einer Kinder-Zielgruppe.",
        "From the council's own statistics while the census age groups are not loaded; empty: places only with "
        "the census or a children's target group.",
    ),
    "decisions.variants_box": ("Varianten und robuste Planung", "Variants and robust planning"),
    "decisions.demand_variants": (
        "Nachfragevarianten (aus der Unsicherheit)",
        "Demand variants (from the uncertainty)",
    ),
    "decisions.closure_variants": ("Schließung bestehender Standorte (Anzahl)", "Existing sites closing (number)"),
    "decisions.window_variants": ("Weitere Abfahrtsfenster", "Further departure windows"),
    "decisions.robust": ("Planen für", "Plan for"),
    "decisions.robust_off": ("die Anfrage (Varianten nur nachrechnen)", "the request (variants only evaluated)"),
    "decisions.assumed": (
        "Das Fehlermodell ist angenommen, nicht gemessen.",
        "The error model is assumed, not measured.",
    ),
    "decisions.assumed_help": (
        "Die Intervalle beruhen auf einem angenommenen Fehlermodell der Nachfrage (siehe Bericht, Methode).",
        "The intervals rest on an assumed error model of the demand (see the report's method section).",
    ),
    "decisions.with_places": ("Mit freiem Platz", "With a free place"),
    "decisions.with_places_rough": ("Mit freiem Platz (grob)", "With a free place (rough)"),
    "decisions.with_places_help": (
        "Nur wer einen freien Platz in Reichweite hat, zählt (exakter maximaler Fluss).",
        "Only those with a free place within reach count (exact maximum flow).",
    ),
    "decisions.without_places": ("In Reichweite (ohne Platzgrenze)", "Within reach (no place limit)"),
    "decisions.no_place": ("{people} ohne freien Platz", "{people} without a free place"),
    "decisions.committee": (
        "**Für den Ausschuss: Kosten, Ersatz und Spielraum je Standort**",
        "**For the committee: cost, substitute and margin per site**",
    ),
    "decisions.costs_title": ("**Kosten der neuen Standorte**", "**Cost of the new sites**"),
    "decisions.metric.yearly": ("Kosten im Jahr", "Cost per year"),
    "decisions.metric.per_person": ("Euro je neu erreichter Person", "Euros per newly reached person"),
    "decisions.metric.land": ("Landesanteil im Jahr", "State share per year"),
    "decisions.metric.municipal": ("Kommunaler Anteil im Jahr", "Municipal share per year"),
    "decisions.frontier_title": (
        "**Budget-Grenze: Erreichte gegen Budget ({basis})**",
        "**Budget frontier: people reached against budget ({basis})**",
    ),
    "decisions.frontier_proven": (
        "Jeder Punkt ist bewiesen optimal ({seconds} s). Die Raute ist dieser Plan.",
        "Every point is proven optimal ({seconds} s). The diamond is this plan.",
    ),
    "decisions.frontier_gap": (
        "Nicht jeder Punkt ist im Zeitlimit bewiesen ({seconds} s): siehe »Lösung« im Tooltip. Die Raute ist "
        "dieser Plan.",
        "Not every point was proven within the time limit ({seconds} s): see “Solution” in the tooltip. The "
        "diamond is this plan.",
    ),
    "decisions.status.optimal": ("bewiesen optimal", "proven optimal"),
    "decisions.status.time_limit": ("Zeitlimit, mit Lücke", "time limit, with a gap"),
    "decisions.axis.budget": ("Budget (EUR)", "Budget (EUR)"),
    "decisions.axis.reached": ("Erreicht (%)", "Reached (%)"),
    "decisions.axis.sites": ("Neue Standorte", "New sites"),
    "decisions.axis.per_person": ("Euro je neu erreichter Person", "Euros per newly reached person"),
    "decisions.axis.proven": ("Lösung", "Solution"),
    "decisions.axis.plan_cost": ("Kosten dieses Plans (EUR)", "Cost of this plan (EUR)"),
    "decisions.axis.low": ("Untergrenze (%)", "Lower bound (%)"),
    "decisions.axis.high": ("Obergrenze (%)", "Upper bound (%)"),
    "decisions.col.interval": ("{level}-%-Intervall", "{level} % interval"),
    "decisions.col.yearly": ("Kosten im Jahr (EUR)", "Cost per year (EUR)"),
    "decisions.col.eur_per_person": ("EUR je neu erreichter Person", "EUR per newly reached person"),
    "decisions.col.gain_interval": ("Neu erreicht (Intervall)", "Newly reached (interval)"),
    "decisions.col.gain": ("Neu erreicht", "Newly reached"),
    "decisions.col.substitute": ("Bester Ersatz", "Best substitute"),
    "decisions.col.loss": ("Verlust beim Tausch (Personen)", "Loss if swapped (people)"),
    "decisions.col.flip": ("Kippt bei Nachfragerückgang (%)", "Flips at a demand fall of (%)"),
    "decisions.col.variants": ("In Varianten gewählt", "Chosen in variants"),
    "decisions.col.variant": ("Variante", "Variant"),
    "decisions.col.kind": ("Art", "Kind"),
    "decisions.col.plan_share": ("Dieser Plan: versorgt (%)", "This plan: covered (%)"),
    "decisions.col.own_share": ("Bestmöglich in der Variante (%)", "Best possible in the variant (%)"),
    "decisions.variants_title": ("**Der Plan über die Varianten**", "**The plan across the variants**"),
    # --- issue 20: failures, accessibility, map payload -----------------------------------------------
    "failure.message": (
        "Das hat leider nicht geklappt: ein Fehler im Programm. Ihre Eingaben sind noch da; versuchen Sie es "
        "erneut oder laden Sie die Seite neu. Wenn es wieder passiert, nennen Sie bitte die Referenz **{ref}** "
        "(Kontakt: Seite »Barrierefreiheit«).",
        "Sorry, that did not work: an error in the program. Your entries are still there; try again or reload "
        "the page. If it happens again, please quote the reference **{ref}** (contact: page »Accessibility«).",
    ),
    "nav.barrierefreiheit": ("Barrierefreiheit", "Accessibility"),
    "daten.layer_choose": ("Ebene wählen …", "Choose a layer …"),
    "daten.layer_first": (
        "Zuerst die Ebene wählen, in die die Datei gehört (z. B. »Kitas«).",
        "First choose the layer the file belongs to (e.g. »Day-care centres«).",
    ),
    "daten.mode_first": (
        "Bitte wählen: die vorhandenen Daten der Ebene ersetzen oder die Datei anhängen?",
        "Please choose: replace the layer's existing data or append the file?",
    ),
    "daten.osm_tab": ("OSM-Auszug", "OSM extract"),
    "daten.osm_help": (
        "Ein OSM-Auszug (`.osm.pbf` von Geofabrik, `.osm` oder `.osm.bz2`) liefert das Straßennetz für Fahrzeiten "
        "und die Hintergrundkarte ohne Internet. Statt dessen geht auch das Straßennetz der Stadt als Linien "
        "(GeoPackage, Shapefile als ZIP oder GeoJSON, z. B. die Straßenabschnitte aus dem Open-Data-Portal): "
        "Fahrzeiten zu Fuß und mit dem Fahrrad, ohne Gebäude und Hintergrund. Einmal hier hochgeladen, steht "
        "die Datei auf allen Seiten zur Auswahl (nur in Ihrer Sitzung).",
        "An OSM extract (`.osm.pbf` from Geofabrik, `.osm` or `.osm.bz2`) provides the street network for travel "
        "times and the background map without internet. The city's street network as lines (GeoPackage, zipped "
        "Shapefile or GeoJSON, e.g. the street segments of its open-data portal) works too: walking and cycling "
        "times, without buildings or background. Uploaded once here, it can be chosen on every page "
        "(in your session only).",
    ),
    "daten.osm_ready": (
        "OSM-Auszug »{file}« ist bereit: Versorgungslücken, Standortplanung und Bericht bieten ihn an.",
        "OSM extract »{file}« is ready: Coverage gaps, Site planning and Report offer it.",
    ),
    "map.aggregated": (
        "{layer} – {points} Punkte, zusammengefasst in {cells} Zellen à {km} km",
        "{layer} – {points} points, aggregated into {cells} cells of {km} km",
    ),
    "a11y.title": ("Erklärung zur Barrierefreiheit", "Accessibility statement"),
    "a11y.scope": (
        "Die Stelle, die diesen Integrationsatlas betreibt, ist bemüht, ihn im Einklang mit der "
        "Barrierefreie-Informationstechnik-Verordnung Nordrhein-Westfalen (BITV NRW) barrierefrei zugänglich zu "
        "machen. Diese Erklärung gilt für die Web-Anwendung »Integrationsatlas NRW« mit allen Seiten.",
        "The body operating this Integration Atlas strives to make it accessible in accordance with the "
        "accessibility regulation of North Rhine-Westphalia (BITV NRW). This statement covers the web application "
        "»Integrationsatlas NRW« with all its pages.",
    ),
    "a11y.status_heading": ("Stand der Vereinbarkeit mit den Anforderungen", "Compliance status"),
    "a11y.status": (
        "Die Anwendung ist mit den Anforderungen der BITV NRW (WCAG 2.1, Stufe AA, über EN 301 549) "
        "**teilweise vereinbar**. Jede Seite wird in beiden Sprachen automatisch mit axe-core geprüft "
        "(keine schweren oder kritischen Verstöße); die unten genannten Inhalte sind nicht vollständig barrierefrei.",
        "The application is **partially compliant** with BITV NRW (WCAG 2.1 level AA via EN 301 549). Every page "
        "is checked automatically with axe-core in both languages (no serious or critical violations); the "
        "content listed below is not fully accessible.",
    ),
    "a11y.limits_heading": ("Nicht barrierefreie Inhalte", "Content that is not accessible"),
    "a11y.limits": (
        "- **Karten:** Die Karten lassen sich mit der Tastatur verschieben und zoomen, einzelne Gebiete und "
        "Einrichtungen aber nur mit der Maus anklicken. Alles, was eine Karte zeigt, steht deshalb auch als "
        "Tabelle unter der Karte (»Kartendaten als Tabelle«); die Suche wählt ein Gebiet per Tastatur.\n"
        "- **Farben:** Die Farbklassen sind für Farbsehschwächen geeignet (Viridis, Okabe-Ito) und tragen die "
        "Bedeutung nie allein: Legende, Tabellen und Beschriftungen nennen die Werte.\n"
        "- **Bericht (PDF):** Die Diagramme und Karten des Ratsberichts haben Bildunterschriften, aber "
        "keine vollständige Tagged-PDF-Struktur. Dieselben Zahlen stehen im Bericht als Tabellen und in den "
        "Exporten (CSV, Excel).",
        "- **Maps:** The maps can be panned and zoomed with the keyboard, but areas and facilities can be "
        "clicked only with a mouse. Everything a map shows is therefore also given as a table below the map "
        "(»Map data as a table«); the search selects an area by keyboard.\n"
        "- **Colours:** The colour classes are safe for colour-vision deficiencies (viridis, Okabe-Ito) and never "
        "carry meaning alone: legend, tables and labels give the values.\n"
        "- **Report (PDF):** The council report's charts and maps have captions but no full tagged-PDF structure. "
        "The same figures are in the report's tables and in the exports (CSV, Excel).",
    ),
    "a11y.made_heading": ("Erstellung dieser Erklärung", "Preparation of this statement"),
    "a11y.made": (
        "Diese Erklärung beruht auf einer Selbstbewertung: automatische Prüfung aller Seiten mit axe-core "
        "(WCAG 2.1 A und AA) in den Browser-Tests des Projekts und Bedienung per Tastatur bei 1366×768 und "
        "1920×1080 Bildpunkten. Sie wird mit jeder Version geprüft.",
        "This statement is based on a self-assessment: automatic checks of all pages with axe-core (WCAG 2.1 A and "
        "AA) in the project's browser tests and keyboard use at 1366×768 and 1920×1080 pixels. It is reviewed "
        "with every release.",
    ),
    "a11y.feedback_heading": ("Feedback und Kontakt", "Feedback and contact"),
    "a11y.feedback": (
        "Sind Ihnen Mängel beim barrierefreien Zugang aufgefallen, oder brauchen Sie Inhalte in einer anderen "
        "Form? Schreiben Sie uns; wir antworten innerhalb eines Monats.",
        "Have you noticed accessibility problems, or do you need content in another form? Write to us; we answer "
        "within one month.",
    ),
    "a11y.contact": ("Kontakt: {contact}", "Contact: {contact}"),
    "a11y.contact_unset": (
        "Kontakt: die Stelle, die diesen Atlas betreibt. (Betreiber: bitte die Kontaktadresse in "
        "`INTEGRATIONSATLAS_FEEDBACK_CONTACT` eintragen; sie erscheint dann hier.)",
        "Contact: the body operating this atlas. (Operators: please set the contact address in "
        "`INTEGRATIONSATLAS_FEEDBACK_CONTACT`; it is then shown here.)",
    ),
    "a11y.enforcement_heading": ("Durchsetzungsverfahren", "Enforcement procedure"),
    "a11y.enforcement": (
        "Wenn Sie auf Ihre Rückmeldung keine zufriedenstellende Antwort erhalten, können Sie sich an die "
        "Ombudsstelle für barrierefreie Informationstechnik des Landes NRW wenden:",
        "If you do not receive a satisfactory answer to your feedback, you can contact the ombudsperson for "
        "accessible information technology of North Rhine-Westphalia:",
    ),
    # --- server with login: login, roles, fair use, audit log (issue 22) --------------------------------
    "nav.protokoll": ("Protokoll", "Audit log"),
    "auth.please_login": (
        "Bitte melden Sie sich mit dem Konto Ihrer Verwaltung an.",
        "Please log in with your administration's account.",
    ),
    "auth.login": ("Anmelden", "Log in"),
    "auth.login_help": (
        "Die Anmeldung läuft über den Identitätsdienst Ihrer Verwaltung. Welche Daten Sie sehen, hängt von Ihrer "
        "Rolle ab (Planung, Rat, Verwaltung).",
        "Login goes through your administration's identity provider. What you see depends on your role "
        "(planning, council, administration).",
    ),
    "auth.logged_in": ("Angemeldet: {name} · Rolle: {role}", "Logged in: {name} · role: {role}"),
    "auth.logout": ("Abmelden", "Log out"),
    "auth.no_role": (
        "Das Konto {name} hat keine Rolle im Integrationsatlas (Claim »{claim}«). Bitte die Verwaltung bitten, "
        "Sie einer der Gruppen Planung, Rat oder Verwaltung zuzuordnen.",
        "The account {name} has no role in the Integration Atlas (claim »{claim}«). Please ask the administration "
        "to add you to one of the groups planning, council or administration.",
    ),
    "fairuse.queued": (
        "»{label}« wartet: Platz {position} in der Warteschlange ({running} Berechnungen laufen gerade).",
        "»{label}« is waiting: place {position} in the queue ({running} computations are running).",
    ),
    "fairuse.own_running": (
        "»{label}« wartet, bis Ihre andere Berechnung (z. B. in einem anderen Fenster) fertig ist – "
        "je Person läuft eine schwere Berechnung zur Zeit.",
        "»{label}« waits until your other computation (e.g. in another window) has finished – one heavy "
        "computation per person at a time.",
    ),
    "fairuse.coverage": ("Versorgung", "Coverage"),
    "fairuse.isochrones": ("Isochronen", "Isochrones"),
    "fairuse.siting": ("Standortplanung", "Site planning"),
    "fairuse.report": ("Bericht", "Report"),
    "fairuse.export": ("Export", "Export"),
    "protokoll.not_allowed": (
        "Das Protokoll sehen nur Rollen mit der Berechtigung »Protokoll einsehen«.",
        "Only roles with the permission to view the audit log see it.",
    ),
    "protokoll.intro": (
        "Wer hat wann importiert, ersetzt, gelöscht, wiederhergestellt, exportiert oder eine geschützte Ebene "
        "geöffnet. Einträge werden nie geändert und nach {days} Tagen gelöscht.",
        "Who imported, replaced, deleted, restored, exported or opened a protected layer, and when. Entries are "
        "never changed and are deleted after {days} days.",
    ),
    "protokoll.since": ("Von", "From"),
    "protokoll.until": ("Bis", "To"),
    "protokoll.entries": ("Einträge", "Entries"),
    "protokoll.download": (
        "Protokoll als CSV herunterladen (für die Datenschutzbeauftragte)",
        "Download the audit log as CSV (for the data-protection officer)",
    ),
    # --- Land-wide 100 m results on the Karte (issue 21) ---
    "karte.result": ("Landesweites Ergebnis (100-m-Kacheln)", "Land-wide result (100 m tiles)"),
    "karte.result_help": (
        "Gespeicherte Versorgungsergebnisse aus dem Ordner {folder} neben dem Datenspeicher, als Bildkacheln.",
        "Stored coverage results from the folder {folder} next to the data store, drawn as image tiles.",
    ),
    "karte.result_rendering": (
        "Kacheln des Ergebnisses werden einmalig erzeugt …",
        "Rendering the result's tiles (once) …",
    ),
    "karte.result_layer": ("Ergebnis: {name}", "Result: {name}"),
    "karte.result_class": ("bis {value} {unit}", "up to {value} {unit}"),
    "karte.result_last": ("über {value} {unit} / nicht erreichbar", "over {value} {unit} / unreachable"),
    "karte.result_attr": ("Ergebnis: Integrationsatlas NRW", "Result: Integrationsatlas NRW"),
}

#: Languages and their names in the sidebar toggle.
LANGUAGES: dict[str, str] = {"de": "Deutsch", "en": "English"}


def text(key: str, lang: str = "de", /, **values: object) -> str:
    """The text ``key`` in ``lang`` (``de`` or ``en``), with ``values`` filled in.

    Unknown keys are returned unchanged, so a missing entry shows up in the UI
    instead of breaking it; an unknown language falls back to German.

    Examples
    --------
    >>> text("nav.karte", "en")
    'Map'
    >>> text("luecken.isochrones_layer", "de", minutes=15.0)
    'Isochronen 15 min'
    >>> text("no.such.key", "en")
    'no.such.key'
    """
    pair = TEXTS.get(key)
    if pair is None:
        return key
    template = pair[1] if lang == "en" else pair[0]
    return template.format(**values) if values else template
