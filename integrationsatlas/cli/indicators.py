"""``integrationsatlas indicators``: indicators per area of any level, over time, exported for monitoring systems.

Examples::

    integrationsatlas indicators compute --by koeln-stadtteile --layer kita --reach 0.5km --reach 1km
    integrationsatlas indicators compute --by aachen-1km --layer kita --reach 10min:walk --osm aachen.osm.pbf
    integrationsatlas indicators list --by koeln-stadtteile
    integrationsatlas indicators show --by koeln-stadtteile --date 2019-12-31 --json
    integrationsatlas indicators compare --by koeln-stadtteile --from 2018-12-31 --to 2019-12-31
    integrationsatlas indicators export --by koeln-stadtteile --format kommonitor -o koeln_kommonitor.zip
    integrationsatlas indicators export --by koeln-stadtteile --format xlsx -o integrationsmonitoring.xlsx

Every computed table is stored with its date; importing new population or
facility data recomputes the stored series for the new date.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.errors import DataError
from geo.formatting import de_number
from geo.layers.sources import reference_date
from geo.settings import Settings
from geo.units import LEVELS
from integrationsatlas.cli._output import emit_json, frame_records, stdout_to_stderr
from integrationsatlas.monitoring import (
    IndicatorSeries,
    IndicatorTable,
    Reach,
    change_map,
    compare_snapshots,
    compute_indicators,
    load_snapshot,
    snapshots,
    store_indicators,
)
from integrationsatlas.monitoring.catalogue import format_value
from integrationsatlas.monitoring.export import MONITORING_FORMATS, monitoring_export
from integrationsatlas.monitoring.indicators import iso_date
from integrationsatlas.monitoring.kommonitor import kommonitor_package
from integrationsatlas.request import DEMAND_SOURCES, AreaRef


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``indicators`` with ``compute``, ``list``, ``show``, ``compare`` and ``export``."""
    p = sub.add_parser(
        "indicators",
        help="Kennzahlen je Gebiet (jede Ebene, auch Gebietssätze), über die Zeit, Export für KomMonitor und das "
        "Integrationsmonitoring",
    )
    actions = p.add_subparsers(dest="action", metavar="AKTION")
    actions.required = True
    compute = actions.add_parser("compute", help="Kennzahlen berechnen und mit ihrem Stichtag speichern")
    _by(compute)
    compute.add_argument("--area", metavar="AGS", help="Gebiet (AGS oder Gebietssatz NAME[:NR]; Standard: alles)")
    compute.add_argument("--layer", action="append", required=True, metavar="EBENE", help="Einrichtungsebene, mehrfach")
    compute.add_argument(
        "--reach",
        action="append",
        metavar="SCHWELLE",
        help="Reichweite, mehrfach: 1km (Luftlinie) oder 10min[:walk|bike|drive|oepnv] (braucht --osm); Standard 1km",
    )
    compute.add_argument("--target-group", default="total", metavar="GRUPPE", help="Zielgruppe (Standard total)")
    compute.add_argument("--demand", choices=DEMAND_SOURCES, default="auto", help="Nachfragequelle (Standard auto)")
    compute.add_argument("--osm", type=Path, metavar="DATEI", help="OSM-Ausschnitt für Fahrzeiten und Gebäude")
    compute.add_argument("--gtfs", type=Path, metavar="FAHRPLAN.zip", help="GTFS-Fahrplan für oepnv")
    compute.add_argument("--date", metavar="JJJJ-MM-TT", help="Stichtag (Standard: neuestes Datum der Eingangsdaten)")
    compute.add_argument("--no-store", action="store_true", help="nur berechnen, nicht speichern")
    compute.add_argument("--json", action="store_true", help="nur ein JSON-Dokument auf der Standardausgabe")
    compute.set_defaults(func=run_compute)
    listing = actions.add_parser("list", help="die gespeicherten Stichtage einer Ebene")
    _by(listing)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)
    show = actions.add_parser("show", help="die Kennzahlen eines Stichtags")
    _by(show)
    show.add_argument("--date", metavar="JJJJ-MM-TT", help="Stichtag (Standard: der neueste)")
    show.add_argument("--indicator", metavar="ID", help="nur diese Kennzahl")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)
    compare = actions.add_parser("compare", help="Veränderung zwischen zwei Stichtagen je Gebiet")
    _by(compare)
    compare.add_argument("--from", dest="before", required=True, metavar="JJJJ-MM-TT", help="früherer Stichtag")
    compare.add_argument("--to", dest="after", required=True, metavar="JJJJ-MM-TT", help="späterer Stichtag")
    compare.add_argument("--indicator", metavar="ID", help="nur diese Kennzahl")
    compare.add_argument(
        "--map",
        type=Path,
        metavar="DATEI.geojson",
        help="Änderungskarte der Kennzahl --indicator als GeoJSON (EPSG:4326) schreiben, z. B. für QGIS",
    )
    compare.add_argument("--json", action="store_true")
    compare.set_defaults(func=run_compare)
    export = actions.add_parser("export", help="gespeicherte Kennzahlen für KomMonitor (ZIP) oder als CSV/XLSX")
    _by(export)
    export.add_argument(
        "--format",
        required=True,
        choices=("kommonitor", *MONITORING_FORMATS),
        help="kommonitor (ZIP mit Gebiets- und Kennzahl-JSON und Importer-Tabellen) oder csv/xlsx "
        "(Integrationsmonitoring, mit Metadaten)",
    )
    export.add_argument("-o", "--output", type=Path, required=True, metavar="DATEI", help="Zieldatei")
    export.add_argument("--owner-id", default="", metavar="ID", help="KomMonitor: ownerId der Organisationseinheit")
    export.add_argument("--topic", default="", metavar="ID", help="KomMonitor: topicReference (Themenbereich)")
    export.add_argument("--public", action="store_true", help="KomMonitor: isPublic")
    export.set_defaults(func=run_export)


def _by(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--by", required=True, metavar="EBENE", help=f"Gebietsebene: {', '.join(LEVELS)} oder ein Gebietssatz"
    )


def run_compute(args: argparse.Namespace, settings: Settings) -> int:
    """Compute (and store) the indicators of one level."""
    area = AreaRef.parse(args.area) if args.area else (AreaRef() if args.by in LEVELS else AreaRef("", set=args.by))
    series = IndicatorSeries(
        by=args.by,
        area=area,
        layers=tuple(dict.fromkeys(args.layer)),
        reaches=tuple(Reach.parse(r) for r in (args.reach or ["1km"])),
        target_group=args.target_group,
        demand=args.demand,
        osm_file=str(args.osm) if args.osm else None,
        gtfs_file=str(args.gtfs) if args.gtfs else None,
    )
    on = iso_date(reference_date(args.date)) if args.date else None
    with stdout_to_stderr(args.json):
        table = compute_indicators(settings, series, on=on)
        batch = None if args.no_store else store_indicators(settings, table)
    if args.json:
        emit_json({**table.as_dict(), "batch": None if batch is None else batch.batch_id})
        return 0
    _print_table(table)
    if batch is not None:
        print(f"Gespeichert zum Stichtag {table.date} (Stapel {batch.batch_id}).")
    return 0


def _print_table(table: IndicatorTable, indicator: str | None = None) -> None:
    meta = table.indicators()
    print(f"Kennzahlen je {table.level_title}, Stichtag {table.date}")
    for ind, row in meta.iterrows():
        if indicator and ind != indicator:
            continue
        print(f"\n{row['title']} ({row['unit']}) – Kennzahl {ind}")
        print(f"  Quelle: {row['source']}; Stand: {row['as_of']}; Auflösung: {row['resolution']}")
        if row["extent"]:
            print(f"  Ausschnitt: {row['extent']}")
        mine = table.values[table.values["indicator"] == ind]
        missing = mine["value"].isna()
        print(f"  {int((~missing).sum())} von {len(mine)} Gebieten mit Wert", end="")
        notes = mine.loc[missing, "note"].value_counts()
        print(("; ohne Wert: " + "; ".join(f"{n}× {text}" for text, n in notes.items())) if len(notes) else "")
        for rec in mine[~missing].head(12).itertuples(index=False):
            print(f"  {rec.key!s:<14} {str(rec.name)[:32]:<32} {format_value(str(ind), rec.value):>12}")
        if (~missing).sum() > 12:
            print(f"  … ({int((~missing).sum()) - 12} weitere; alle mit --json)")


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """List the stored dates of a level."""
    table = snapshots(settings, args.by)
    if args.json:
        emit_json(frame_records(table))
        return 0
    if table.empty:
        print(f"Für »{args.by}« sind keine Kennzahlen gespeichert.")
        return 0
    for rec in table.itertuples(index=False):
        print(f"{rec.date}  {rec.indicators:>3} Kennzahlen  Reihe {rec.series_key}: {rec.series}")
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print one stored date of a level."""
    table = load_snapshot(settings, args.by, iso_date(args.date) if args.date else None)
    if args.json:
        doc = table.as_dict()
        if args.indicator:
            doc["values"] = [v for v in doc["values"] if v["indicator"] == args.indicator]
        emit_json(doc)
        return 0
    _print_table(table, args.indicator)
    return 0


def run_compare(args: argparse.Namespace, settings: Settings) -> int:
    """Print the change of the indicators between two dates."""
    before, after = iso_date(args.before) or args.before, iso_date(args.after) or args.after
    change = compare_snapshots(settings, args.by, before, after, args.indicator)
    if args.map is not None:
        if not args.indicator:
            raise DataError("Für --map bitte eine Kennzahl mit --indicator angeben (siehe »indicators show«).")
        polygons = change_map(settings, args.by, change, args.indicator).to_crs("EPSG:4326")
        args.map.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.map.with_name(args.map.name + ".part")
        tmp.write_text(polygons.to_json(drop_id=True), encoding="utf-8")
        tmp.replace(args.map)
        if not args.json:
            print(f"Änderungskarte »{args.indicator}« geschrieben: {args.map} ({len(polygons)} Gebiete)")
    if args.json:
        emit_json({"from": before, "to": after, "changes": frame_records(change)})
        return 0
    for ind, rows in change.groupby("indicator", sort=False):
        print(f"\n{rows['title'].iloc[0]} ({rows['unit'].iloc[0]}): {before} → {after}")
        for rec in rows.head(15).itertuples(index=False):
            print(
                f"  {rec.key!s:<14} {str(rec.name)[:30]:<30} {format_value(str(ind), rec.before):>10} → "
                f"{format_value(str(ind), rec.after):>10}  ({de_number(rec.change, 2, signed=True)})"
            )
    return 0


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the stored indicators of a level for KomMonitor or the Integrationsmonitoring."""
    if args.format == "kommonitor":
        data = kommonitor_package(settings, args.by, owner_id=args.owner_id, topic=args.topic, public=args.public)
    else:
        data = monitoring_export(settings, args.by, args.format)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(args.output)
    print(f"Kennzahlen »{args.by}« als {args.format} geschrieben: {args.output} ({len(data)} Bytes)")
    if args.format == "kommonitor" and not args.owner_id:
        print("Hinweis: ownerId ist leer; vor dem Import in KomMonitor eintragen (--owner-id).")
    return 0


def print_recomputed(
    settings: Settings, layer_id: str, as_of: str | None, *, as_json: bool = False
) -> dict[str, object]:
    """Recompute the stored series after an import of ``layer_id``; print (or return for JSON) what happened."""
    from integrationsatlas.monitoring import recompute_after_import

    tables, failed = recompute_after_import(settings, layer_id, as_of)
    if not as_json:
        for table in tables:
            print(f"Kennzahlen »{table.level}« zum Stichtag {table.date} neu berechnet und gespeichert.")
        for line in failed:
            print(f"Hinweis: {line}")
    return {"indicators": [{"level": t.level, "date": t.date} for t in tables], "not_recomputed": failed}
