"""``integrationsatlas export``: write any layer as GeoPackage, GeoJSON, CSV or Excel, with its sources.

Examples::

    integrationsatlas export --layer ki --format gpkg -o ki.gpkg
    integrationsatlas export --layer kreis --format xlsx --crs 4326 -o kreise.xlsx
    integrationsatlas export --scenario "Aachen 5" -o standorte.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import cast

from geo.formatting import de_int
from geo.io.export import FORMATS, SUFFIXES, ExportCRS, ExportFormat, default_crs, export_frame, export_layer
from geo.layers.registry import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.settings import Settings
from geo.store.scenarios import load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="eine Ebene als GeoPackage, GeoJSON, CSV oder Excel exportieren (mit Quellenangaben)",
        description="Exportiert eine Ebene (eingebettete und importierte Daten) in EPSG:25832 oder EPSG:4326. "
        "Jede Datei enthält die Namensnennung der Datenquellen. GeoJSON ist immer EPSG:4326 (RFC 7946); "
        "CSV ist für Excel eingerichtet (Semikolon, Dezimalkomma, UTF-8 mit BOM).",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--layer", metavar="EBENE", help=f"Ebene: {', '.join(REGISTRY.ids())}")
    what.add_argument("--scenario", metavar="NAME", help="die Standorte eines gespeicherten Szenarios")
    p.add_argument(
        "--format",
        choices=FORMATS,
        metavar="FORMAT",
        help="gpkg, geojson, csv oder xlsx (Standard: aus der Dateiendung)",
    )
    p.add_argument(
        "--crs",
        choices=("25832", "4326"),
        help="Koordinatensystem: 25832 (UTM 32N, Meter) oder 4326 (Grad); Standard 25832, GeoJSON 4326",
    )
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DATEI", help="Zieldatei")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Export the layer and report where it went."""
    fmt = args.format or _format_from_suffix(args.output)
    crs = f"EPSG:{args.crs}" if args.crs else default_crs(fmt)
    if args.layer:
        data = export_layer(args.layer, settings, fmt, crs)  # type: ignore[arg-type]
        what = f"Ebene »{REGISTRY.get(args.layer).title}«"
    else:
        scenario = load_scenario(settings, args.scenario)
        data = export_frame(
            scenario.sites,
            cast(ExportFormat, fmt),
            cast(ExportCRS, crs),
            layer_name=f"Szenario {scenario.name}",
            attribution=ATTRIBUTIONS,
        )
        what = f"Szenario »{scenario.name}« ({len(scenario.sites)} Standorte)"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(args.output)
    print(f"{what} als {fmt} ({crs}) geschrieben: {args.output} ({de_int(len(data))} Bytes)")
    return 0


def _format_from_suffix(path: Path) -> str:
    from geo.errors import DataError

    by_suffix = {v: k for k, v in SUFFIXES.items()} | {".json": "geojson"}
    fmt = by_suffix.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"Format von {path.name} unbekannt: bitte --format gpkg|geojson|csv|xlsx angeben "
            "oder die Endung .gpkg, .geojson, .csv bzw. .xlsx verwenden."
        )
    return fmt
