"""``integrationsatlas areas``: area sets (Stadtteile, Sozialräume, Schulbezirke …) as analysis levels.

Examples::

    integrationsatlas areas import koeln_stadtteile.geojson --name koeln-stadtteile --title "Stadtteile Köln" \\
        --publisher "Stadt Köln" --licence "CC BY" --as-of 2014
    integrationsatlas areas list
    integrationsatlas areas show koeln-stadtteile --json
    integrationsatlas areas delete koeln-stadtteile
    integrationsatlas areas population koeln_stadtteile_bevoelkerung.csv --set koeln-stadtteile --as-of 2012 \
        --publisher "Stadt Köln" --licence "CC BY 3.0 DE"

Residents per area (``areas population``) make the demand of questions about the set's areas
(``--area koeln-stadtteile``): each area's residents spread evenly over its surface.
An imported set is a level everywhere: ``coverage --by koeln-stadtteile``,
``sites --min-per-unit 1 --per koeln-stadtteile``, ``report --by …``,
``indicators compute --by …``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.areasets import area_sets, check_area_set, delete_area_set, import_area_set, load_area_set
from geo.areasets.checks import AreaSetCheck
from geo.areasets.population import import_area_population, population_layer_id
from geo.errors import ValidationError
from geo.formatting import de_int, de_number
from geo.layers.sources import IMPORT_PRESETS, reference_date
from geo.levels import analysis_level
from geo.settings import Settings
from integrationsatlas.cli._output import emit_json, frame_records
from integrationsatlas.cli.indicators import print_recomputed
from planning.demand import ZENSUS_GROUPS


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``areas`` subcommand with ``import``, ``list``, ``show``, ``population`` and ``delete``."""
    p = sub.add_parser(
        "areas",
        help="Gebietssätze (Stadtteile, Sozialräume, Schulbezirke …) importieren, anzeigen, löschen",
        description="Ein Gebietssatz ist eine Flächendatei mit Schlüssel- und Namensspalte; nach dem Import ist er "
        "eine Gebietsebene wie Kreise und Gemeinden (--by NAME).",
    )
    actions = p.add_subparsers(dest="action", metavar="AKTION")
    actions.required = True
    imp = actions.add_parser("import", help="eine Flächendatei als Gebietssatz importieren (geprüft)")
    imp.add_argument("path", type=Path, metavar="DATEI", help="GeoJSON, GeoPackage oder Shapefile-ZIP")
    imp.add_argument("--name", required=True, metavar="NAME", help="Name des Satzes, z. B. koeln-stadtteile")
    imp.add_argument("--title", metavar="TITEL", help="Titel für Karten und Tabellen, z. B. »Stadtteile Köln«")
    imp.add_argument("--id-column", metavar="SPALTE", help="Spalte mit dem Schlüssel (Standard: erkannt)")
    imp.add_argument("--name-column", metavar="SPALTE", help="Spalte mit dem Namen (Standard: erkannt)")
    imp.add_argument("--source", choices=tuple(IMPORT_PRESETS), help="bekannte Quelle (füllt Herausgeber und Lizenz)")
    imp.add_argument("--publisher", metavar="NAME", help="Herausgeber der Grenzen")
    imp.add_argument("--licence", metavar="LIZENZ", help="Lizenz der Grenzen, z. B. dl-de/by-2-0 oder CC BY 4.0")
    imp.add_argument("--as-of", metavar="JJJJ-MM-TT", help="Stand der Grenzen (nicht der Tag des Imports); auch JJJJ")
    imp.add_argument(
        "--keep-valid",
        action="store_true",
        help="gültige Gebiete übernehmen, ungültige nur melden (Standard: ablehnen)",
    )
    imp.add_argument("--dry-run", action="store_true", help="nur prüfen, nichts speichern")
    imp.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    imp.set_defaults(func=run_import)
    lst = actions.add_parser("list", help="die geladenen Gebietssätze")
    lst.add_argument("--json", action="store_true", help="als JSON ausgeben")
    lst.set_defaults(func=run_list)
    show = actions.add_parser("show", help="die Gebiete eines Satzes mit Gemeinde, Fläche und den Prüfergebnissen")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="als JSON ausgeben")
    show.set_defaults(func=run_show)
    pop = actions.add_parser("population", help="Einwohner (und Zielgruppen) je Gebiet eines Satzes importieren")
    pop.add_argument("path", type=Path, metavar="DATEI", help="CSV oder XLSX: Schlüssel, Einwohner, ggf. Zielgruppen")
    pop.add_argument("--set", required=True, metavar="NAME", help="der Gebietssatz, z. B. koeln-stadtteile")
    pop.add_argument("--id-column", metavar="SPALTE", help="Spalte mit dem Schlüssel (Standard: erkannt)")
    pop.add_argument("--as-of", metavar="JAHR|JJJJ-MM-TT", help="Stichtag; wählt ihn bei mehreren in »jahr«/»stichtag«")
    pop.add_argument("--publisher", default="", metavar="NAME", help="Herausgeber, z. B. »Stadt Köln«")
    pop.add_argument("--licence", default="", metavar="LIZENZ", help="Lizenz, z. B. »CC BY 3.0 DE«")
    pop.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    pop.set_defaults(func=run_population)
    delete = actions.add_parser("delete", help="einen Gebietssatz löschen (wiederherstellbar über »store restore«)")
    delete.add_argument("name", metavar="NAME")
    delete.set_defaults(func=run_delete)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    """Check and store an area set; exit 2 and list every problem when it is refused."""
    preset = IMPORT_PRESETS.get(args.source or "")
    try:
        result = import_area_set(
            args.path,
            args.name,
            settings,
            id_column=args.id_column,
            name_column=args.name_column,
            title=args.title,
            licence=args.licence or (preset.licence if preset else None),
            publisher=args.publisher or (preset.publisher if preset else None),
            as_of=reference_date(args.as_of),
            on_invalid="keep_valid" if args.keep_valid else "reject",
            dry_run=args.dry_run,
        )
    except ValidationError as exc:
        return _refused(exc, as_json=args.json, name=args.name)
    ok = result.area_set is not None or (args.dry_run and result.check.n_units > 0 and not result.check.problems)
    if args.json:
        emit_json({**result.as_dict(), "ok": ok, "dry_run": bool(args.dry_run)})
        return 0 if ok else 2
    _print_check(result.check)
    if result.area_set is not None:
        print(
            f"Gebietssatz »{result.name}« gespeichert ({result.area_set.n_units} Gebiete, Stapel "
            f"{result.area_set.batch.batch_id}); nutzbar mit »--by {result.name}«."
        )
    else:
        print("Probelauf: nichts gespeichert.")
    return 0 if ok else 2


def _refused(exc: ValidationError, *, as_json: bool, **what: str) -> int:
    """Report a refused file (every problem, as JSON with ``what`` or on standard error); exit code 2."""
    if as_json:
        emit_json({"ok": False, **what, "problems": [p.as_dict() for p in exc.problems]})
    else:
        print(exc.title + ":", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
    return 2


def _print_check(check: AreaSetCheck) -> None:
    for line in check.findings():
        print(line)
    if check.problems:
        print(f"{len(check.problems)} Problem(e):")
        for problem in check.problems:
            print(f"  - {problem}")


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the stored area sets."""
    found = area_sets(settings)
    if args.json:
        emit_json([s.as_dict() for s in found])
        return 0
    if not found:
        print("Keine Gebietssätze geladen. Importieren mit »integrationsatlas areas import DATEI --name NAME«.")
        return 0
    for s in found:
        print(f"{s.name:<24} {s.n_units:>5} Gebiete  {s.source_line()}")
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print the areas of one set and the checks of its stored polygons."""
    level = analysis_level(args.name, settings)
    units = load_area_set(settings, args.name)
    _, check = check_area_set(units, settings, file=args.name, id_column="unit_id", name_column="name")
    table = units.drop(columns="geometry")
    if args.json:
        emit_json({"area_set": level.area_set.as_dict() if level.area_set else None, "check": check.as_dict(),
                   "units": frame_records(table)})  # fmt: skip
        return 0
    for line in check.findings()[1:]:
        print(line)
    print(f"{'Nr.':<10} {'Name':<32} {'Gemeinde':<9} {'Anteil':>7} {'km²':>8}")
    for row in table.itertuples(index=False):
        print(
            f"{row.unit_id!s:<10} {str(row.name)[:32]:<32} {row.gemeinde_ags!s:<9} "
            f"{de_number(row.gemeinde_share * 100, 0):>6} % {de_number(row.area_km2, 2):>8}"
        )
    return 0


def run_population(args: argparse.Namespace, settings: Settings) -> int:
    """Import residents per area; exit 2 and list every problem when the table is refused."""
    try:
        counted = import_area_population(
            args.path, args.set, settings, id_column=args.id_column, as_of=args.as_of,
            licence=args.licence, publisher=args.publisher,
        )  # fmt: skip
    except ValidationError as exc:
        return _refused(exc, as_json=args.json, area_set=args.set)
    if not args.json:
        groups = ", ".join(f"{ZENSUS_GROUPS[g][0]} {de_int(counted.table[g].sum())}" for g in counted.groups)
        print(
            f"{counted.source_file}: {len(counted.table)} Gebiete von »{args.set}«, "
            f"{de_int(counted.table['population'].sum())} Einwohner, Stichtag {counted.as_of}"
            + (f"; {groups}" if groups else "")
            + f". Fragen zu »--area {args.set}« nutzen diese Einwohner."
        )
    monitoring = print_recomputed(settings, population_layer_id(args.set), counted.as_of, as_json=args.json)
    if args.json:
        emit_json({"ok": True, **counted.as_dict(), "monitoring": monitoring})
    return 0


def run_delete(args: argparse.Namespace, settings: Settings) -> int:
    """Delete (deactivate) an area set."""
    n = delete_area_set(settings, args.name)
    print(f"Gebietssatz »{args.name}« gelöscht ({n} Stapel deaktiviert); wiederherstellen mit »integrationsatlas store "
          "restore STAPEL« (»integrationsatlas store list«).")  # fmt: skip
    return 0
