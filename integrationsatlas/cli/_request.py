"""The one CLI vocabulary of a planning question: the same options in ``coverage``, ``sites``, ``stops`` and ``report``.

Each command adds the options it needs with :func:`add_request_options` and
builds its :class:`~integrationsatlas.request.AnalysisRequest` with
:func:`request_from_args`, so thresholds, modes, areas, units, target groups,
sources and the public-transport day and window are spelt the same
everywhere. Older option names stay as aliases (``--radius-km``,
``--minutes``, ``--fixed-layer``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import date
from pathlib import Path

from geo.errors import DataError
from geo.modes import mode_ids
from geo.units import LEVELS
from integrationsatlas.request import (
    DEFAULT_WINDOW,
    DEMAND_SOURCES,
    TARGET_GROUPS,
    AnalysisRequest,
    AreaRef,
    SitingSpec,
)


def add_request_options(
    p: argparse.ArgumentParser,
    *,
    layer_default: str | None = None,
    area_required: bool = False,
    threshold_required: bool = True,
    by_choices: tuple[str, ...] | None = None,
    old_names: bool = False,
    with_by: bool = True,
) -> None:
    """Add the request options to ``p``.

    Parameters
    ----------
    p
        The subcommand's parser.
    layer_default
        Default facility layer (``None``: ``--layer`` is required).
    area_required
        Whether ``--area`` is required.
    threshold_required
        Whether one of ``--threshold-km``/``--threshold-min`` is required.
    by_choices
        Allowed units of the table (``--by``); ``None``: the administrative
        levels (``kreis`` first) and every stored area set.
    old_names
        Also accept the older names of ``sites`` (``--radius-km``,
        ``--minutes``, ``--fixed-layer``).
    with_by
        Whether the command has a choice of units (``--by``).
    """
    layer_names = ["--layer", "--fixed-layer"] if old_names else ["--layer"]
    p.add_argument(
        *layer_names,
        dest="layer",
        required=layer_default is None,
        default=layer_default,
        metavar="EBENE",
        help="Einrichtungsebene, z. B. ki, kita, ogs"
        + (f" (Standard {layer_default})" if layer_default else "")
        + ("; bei »sites« bleiben ihre bestehenden Standorte geöffnet (»none«: keine)" if old_names else ""),
    )
    threshold = p.add_mutually_exclusive_group(required=threshold_required)
    km = ["--threshold-km", "--radius-km"] if old_names else ["--threshold-km"]
    minutes = ["--threshold-min", "--minutes"] if old_names else ["--threshold-min"]
    threshold.add_argument(*km, dest="threshold_km", type=float, metavar="KM", help="Schwelle: Luftlinie in km")
    threshold.add_argument(
        *minutes,
        dest="threshold_min",
        type=float,
        metavar="MIN",
        help="Schwelle: Fahrzeit von Tür zu Tür in Minuten (braucht --osm)",
    )
    p.add_argument(
        "--mode",
        choices=mode_ids(),
        default="walk",
        help="Verkehrsmittel für --threshold-min: walk, bike, drive oder oepnv (Fußwege + Bus und Bahn, "
        "braucht --gtfs); Standard walk",
    )
    p.add_argument(
        "--osm",
        type=Path,
        metavar="DATEI",
        help="OSM-Ausschnitt (.osm.pbf, .osm oder .osm.bz2): Straßennetz und, ohne Zensus-Gitter, "
        "Gebäude für die 100-m-Nachfrage",
    )
    p.add_argument("--gtfs", type=Path, metavar="FAHRPLAN.zip", help="GTFS-Fahrplan für --mode oepnv")
    p.add_argument(
        "--day",
        type=date.fromisoformat,
        metavar="JJJJ-MM-TT",
        help="Verkehrstag für --mode oepnv (Standard: nächster Dienstag)",
    )
    p.add_argument(
        "--window",
        default="07:00-09:00",
        metavar="HH:MM-HH:MM",
        help="Abfahrtsfenster für --mode oepnv (Median über jede Minute; Standard 07:00-09:00)",
    )
    p.add_argument(
        "--area",
        required=area_required,
        metavar="AGS",
        help="Gebiet: AGS-Anfang, z. B. 05 (Land), 051 (Regierungsbezirk), 05334 (Kreis), 05334002 (Gemeinde); "
        "oder ein Gebietssatz: NAME (alle Gebiete) bzw. NAME:NR (ein Gebiet)",
    )
    if with_by and by_choices is not None:
        p.add_argument(
            "--by", choices=by_choices, default=by_choices[0], help=f"Gebietsebene (Standard {by_choices[0]})"
        )
    elif with_by:
        p.add_argument(
            "--by",
            default="kreis",
            metavar="EBENE",
            help="Einheiten der Tabelle: kreis (Standard), gemeinde, regbez, land oder der Name eines "
            "Gebietssatzes (»integrationsatlas areas list«); ohne --area dann alle Gebiete des Satzes",
        )
    p.add_argument(
        "--target-group",
        default="total",
        metavar="GRUPPE",
        help="total (Gesamtbevölkerung), foreign (ausländische Bevölkerung), u3, kita_ue3, "
        "grundschule, u18 (mit Zensus-Gitter) oder ein Spaltenname",
    )
    p.add_argument(
        "--demand",
        choices=DEMAND_SOURCES,
        default="auto",
        help="Nachfragequelle: auto (beste verfügbare), zensus, osm (Gebäudeschätzung), gemeinde oder orte",
    )


def request_from_args(
    args: argparse.Namespace, *, siting: SitingSpec | None = None, default_km: float | None = None
) -> AnalysisRequest:
    """The request of a command line (validated).

    ``default_km`` is used when neither threshold is given (the report).
    """
    group, column = (args.target_group, None) if args.target_group in TARGET_GROUPS else ("column", args.target_group)
    minutes = getattr(args, "threshold_min", None)
    km = getattr(args, "threshold_km", None)
    if minutes is None and km is None:
        if default_km is None:
            raise DataError("Bitte eine Schwelle angeben: --threshold-km (Luftlinie) oder --threshold-min.")
        km = default_km
    layer = str(args.layer)
    by = getattr(args, "by", "kreis")
    area = AreaRef.parse(args.area)
    if args.area is None and by not in LEVELS:  # --by an area set without --area: all areas of the set
        area = AreaRef("", set=by)
    if layer in ("", "none"):  # sites: no existing sites stay open
        layer = "ankommenstreffpunkt"
        siting = None if siting is None else replace(siting, keep_existing=False)
    return AnalysisRequest(
        layer=layer,
        threshold=float(minutes if minutes is not None else km),  # type: ignore[arg-type]
        unit="min" if minutes is not None else "km",
        mode=args.mode,
        area=area,
        by=by,
        target_group=group,
        target_column=column,
        demand=args.demand,
        osm_file=str(args.osm) if args.osm else None,
        gtfs_file=str(args.gtfs) if args.gtfs else None,
        day=args.day.isoformat() if args.day else None,
        window=parse_window(args.window),
        siting=siting,
    ).validate()


def parse_window(text: str | None) -> tuple[int, int]:
    """``HH:MM-HH:MM`` as seconds after midnight.

    >>> parse_window("07:00-09:30")
    (25200, 34200)
    """
    if not text:
        return DEFAULT_WINDOW
    try:
        start, end = (int(h) * 3600 + int(m) * 60 for h, m in (part.strip().split(":") for part in text.split("-")))
    except ValueError:
        raise DataError(f"Abfahrtsfenster »{text}« bitte als HH:MM-HH:MM angeben, z. B. 07:00-09:00.") from None
    return start, end
