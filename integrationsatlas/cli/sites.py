"""``integrationsatlas sites``: best new sites for Ankommens-Treffpunkte, explained.

Examples::

    integrationsatlas sites --model mclp --area 05334 -p 5 --radius-km 5 --json
    integrationsatlas sites --model mclp --area 05334 -p 5 --minutes 15 --mode walk \\
        --osm aachen.osm.bz2 --save "Aachen 5 neue"
    integrationsatlas sites --model mclp --area 05334 -p 3 --radius-km 5 --budget 50000 \\
        --cost-column miete_eur
    integrationsatlas sites --area 05334 -p 3 --layer kita --threshold-min 10 --osm aachen.osm.pbf \\
        --site-cost 30000 --one-off-cost 10000 --programme komm_an_treffpunkt --frontier 10 \\
        --variants-demand 3 --variants-closures 2 --robust worst --json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import DataError
from geo.formatting import de_count, de_int, de_number, de_share
from geo.settings import Settings
from geo.store.scenarios import save_scenario
from integrationsatlas.cli._decisions import add_decision_options, decision_fields
from integrationsatlas.cli._output import emit_json, frame_records, rough_suffix, stdout_to_stderr
from integrationsatlas.cli._request import add_request_options, request_from_args
from integrationsatlas.pipeline.budget import cost_lines
from integrationsatlas.pipeline.intervals import interval_record
from integrationsatlas.request import DEFAULT_PLACE_LAYERS, SitingSpec
from integrationsatlas.siting import MODELS, plan_sites
from planning.coverage import point_xy


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sites`` subcommand."""
    p = sub.add_parser(
        "sites",
        help="Standortvorschläge für neue Einrichtungen, z. B. Ankommens-Treffpunkte (exakt gelöst, mit Begründung)",
        description="Schlägt neue Standorte vor (MCLP: größte erreichte Nachfrage; LSCP: wenigste "
        "Standorte für volle Abdeckung; p-Median: kleinste mittlere Entfernung). Bestehende "
        "Einrichtungen der Ebene bleiben geöffnet. Jeder Vorschlag wird begründet.",
    )
    add_request_options(p, layer_default="ankommenstreffpunkt", area_required=True, old_names=True)
    p.add_argument("--model", choices=MODELS, default="mclp", help="Standortmodell (Standard mclp)")
    p.add_argument("-p", type=int, default=5, metavar="N", help="Anzahl neuer Standorte (Standard 5)")
    p.add_argument(
        "--places",
        default=",".join(DEFAULT_PLACE_LAYERS),
        metavar="EBENEN",
        help="Ebenen öffentlicher Orte als Kandidaten, kommagetrennt",
    )
    p.add_argument("--clusters", type=int, default=20, metavar="N", help="Anzahl Clusterzentren (Standard 20)")
    p.add_argument("--grid-m", type=float, metavar="M", help="zusätzlich ein Raster mit diesem Abstand in m")
    p.add_argument(
        "--user-points",
        type=Path,
        metavar="DATEI",
        help="eigene Kandidaten (GeoPackage/GeoJSON mit Punkten, optional Spalte name)",
    )
    p.add_argument(
        "--min-distance-m",
        type=float,
        default=0.0,
        metavar="M",
        help="Mindestabstand neuer Standorte zu bestehenden Einrichtungen in m",
    )
    p.add_argument(
        "--min-per-gemeinde",
        "--min-per-unit",
        dest="min_per_gemeinde",
        type=int,
        default=0,
        metavar="N",
        help="mindestens N Standorte je Gemeinde (oder je Einheit von --per) mit Kandidaten",
    )
    p.add_argument(
        "--per",
        default="gemeinde",
        metavar="EBENE",
        help="Einheiten der Mindestzahl: gemeinde (Standard), kreis oder ein Gebietssatz, z. B. "
        "»--min-per-unit 1 --per koeln-stadtteile« (mindestens ein Standort je Stadtteil)",
    )
    p.add_argument("--no-sensitivity", action="store_true", help="keine Kurve Abdeckung über p berechnen")
    p.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="Zeitlimit je Lösung in s")
    p.add_argument("--save", metavar="NAME", help="als Szenario unter diesem Namen speichern")
    p.add_argument("--overwrite", action="store_true", help="ein gleichnamiges Szenario überschreiben")
    p.add_argument("--json", action="store_true", help="nur ein JSON-Dokument auf der Standardausgabe")
    add_decision_options(p)
    p.set_defaults(func=run)


def _user_points(path: Path | None) -> tuple[tuple[float, float, str], ...]:
    """Read own candidate points from a file, in EPSG:25832."""
    if path is None:
        return ()
    import geopandas as gpd

    from geo.projection import to_projected

    if not path.is_file():
        raise DataError(f"Datei {path} mit eigenen Punkten nicht gefunden.")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # GDAL/pyogrio raise many types for unreadable files
        raise DataError(f"Datei {path.name} ist nicht lesbar ({exc}). Bitte GeoPackage oder GeoJSON angeben.") from exc
    frame = to_projected(frame, path.name)
    xy = point_xy(frame.set_geometry(frame.geometry.centroid), path.name)
    names = (
        frame["name"].astype("string").fillna("Eigener Punkt")
        if "name" in frame.columns
        else [f"Eigener Punkt {i + 1}" for i in range(len(frame))]
    )
    return tuple((float(x), float(y), str(n)) for (x, y), n in zip(xy, names, strict=True))


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Plan the sites, print them with their reasons, optionally save a scenario."""
    spec = SitingSpec(
        model=args.model,
        p=args.p,
        **decision_fields(args),
        place_layers=tuple(x.strip() for x in args.places.split(",") if x.strip()),
        n_clusters=args.clusters,
        grid_spacing_m=args.grid_m,
        user_points=_user_points(args.user_points),
        min_distance_to_existing_m=args.min_distance_m,
        min_per_gemeinde=args.min_per_gemeinde,
        min_per_level=args.per,
        sensitivity_ps=() if args.no_sensitivity else None,
        time_limit=args.time_limit,
    )
    request = request_from_args(args, siting=spec)

    def progress(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    with stdout_to_stderr(args.json):  # the solver's log never reaches the JSON on standard output
        plan = plan_sites(settings, request, progress)
        if args.save:
            save_scenario(settings, plan.to_scenario(args.save), overwrite=args.overwrite)
    if args.json:
        emit_json(plan_document(plan, saved=args.save))
        return 0
    _print_text(plan, args.save)
    return 0


def plan_document(plan: Any, saved: str | None = None) -> dict[str, Any]:
    """The plan as one JSON-friendly document (sites with WGS84 coordinates too)."""
    from geo.projection import to_display

    sites = plan.sites
    lonlat = to_display(sites[["geometry"]])
    rows = frame_records(sites.drop(columns=["site_cost", "site_one_off"], errors="ignore"))
    exp = {s.candidate_index: s for s in plan.explanation.sites}
    for rec, idx, geom, ll in zip(rows, sites.index, sites.geometry, lonlat.geometry, strict=True):
        rec.update(x=geom.x, y=geom.y, lon=round(ll.x, 6), lat=round(ll.y, 6))
        site = exp.get(int(idx))
        if site is not None:
            rec.update(
                reason=site.reason, benefiting=frame_records(site.benefiting), runner_ups=frame_records(site.runner_ups)
            )
            rec.update(site_decisions(plan, int(idx)))
    summary = plan.summary()
    decisions = summary.pop("decisions", None) or {}
    return {
        "request": plan.request.as_dict(),
        "request_key": plan.request.key,
        "area": {"ags": plan.area_ags, "name": plan.area_name},
        "resolution": summary["resolution"],
        "extent": summary["extent"],
        "summary": summary,
        "sites": rows,
        "coverage_by_kreis": frame_records(plan.coverage_by_kreis),
        "coverage_by_gemeinde": frame_records(plan.coverage_by_gemeinde),
        "sensitivity": frame_records(plan.sensitivity),
        "equity": frame_records(plan.equity),
        "costs": decisions.get("costs"),
        "frontier": decisions.get("frontier"),
        "margins": decisions.get("margins", []),
        "uncertainty": decisions.get("intervals"),
        "places": decisions.get("places"),
        "variants": decisions.get("variants"),
        "inputs": dict(plan.inputs),
        "notes": list(plan.notes),
        "saved_as": saved,
    }


def site_decisions(plan: Any, index: int) -> dict[str, Any]:
    """The decision figures of one new site: its costs and shares, € per person, interval, margins, variants."""
    d = plan.decisions
    out: dict[str, Any] = {}
    if d is None:
        return out
    if d.costs is not None:
        row = d.costs.per_site[d.costs.per_site["candidate_index"] == index]
        if len(row):
            r = row.iloc[0]
            out.update(
                yearly_cost=float(r["yearly"]),
                one_off_cost=float(r["one_off"]),
                land_share=float(r["land"]),
                municipal_share=float(r["municipal"]),
                newly_reached_people=float(r["gain"]),
                eur_per_newly_reached=None if not np.isfinite(r["eur_per_gain"]) else float(r["eur_per_gain"]),
                cost_origin=str(plan.candidates.loc[index, "cost_origin"]),
            )
    if d.intervals is not None and index in d.intervals.gains:
        out["gain_interval"] = interval_record(d.intervals.gains[index], "Personen", people=True)
    margin = d.margin_of(index)
    if margin is not None:
        names = plan.candidates["name"]
        out["margin"] = {
            **margin.as_dict(),
            "substitute_name": None if margin.substitute is None else str(names.iloc[margin.substitute]),
            "flip_to_name": None if margin.flip_to is None else str(names.iloc[margin.flip_to]),
        }
    if d.variants is not None:
        out["variants_chosen"] = d.variants.chosen_in(index)
        out["variants_total"] = len(d.variants.names)
    return out


def _print_text(plan: Any, saved: str | None) -> None:
    s = plan.summary()
    print(f"{plan.area_name} ({plan.area_ags}): {s['model_label']}, {s['threshold']}")
    if plan.extent is not None and plan.extent.partial:
        print(f"Abgedeckt: {plan.extent.caption}. Alle Zahlen gelten nur für diesen Ausschnitt.")
    if plan.resolution is not None and not plan.resolution.ok:
        print(f"{plan.resolution.message} {plan.resolution.fix}".strip())
    gap = de_share(s["gap"], 2)
    print(
        f"Status {s['status']}, Zielwert {de_number(s['objective'], 1)}, Lücke zur Schranke {gap}, "
        f"{de_number(s['seconds'] or 0, 2)} s; {de_int(s['n_candidates'])} Kandidaten, "
        f"{de_int(s['n_fixed'])} bestehende Standorte"
    )
    print(f"Abdeckung vorher {de_share(s['share_before'])}, nachher {de_share(s['share_after'])}")
    _print_sites(plan, s)
    if len(plan.sensitivity):
        print("\nAbdeckung über die Anzahl neuer Standorte:")
        for _, row in plan.sensitivity.iterrows():
            step = "" if row["marginal"] != row["marginal"] else f"  (+{de_share(row['marginal'])})"
            print(f"  p={int(row['p_new']):>2}  {de_share(row['covered_share']):>7}{step}")
    if len(plan.equity):
        unit = "min" if plan.request.uses_time else "km"
        rough = rough_suffix(plan.resolution)
        print(f"\nÜber der Schwelle (vorher → nachher) und 90-%-Wert des Wegs zum nächsten Standort in {unit}{rough}:")

        def p90(v: float) -> str:
            return f"{v:.1f}".replace(".", ",") if np.isfinite(v) else "kein Standort erreichbar"

        for _, row in plan.equity.iterrows():
            print(
                f"  {row['gemeinde']:<28} {de_share(row['beyond_before']):>7} → {de_share(row['beyond_after']):>7}"
                f"   {p90(row['p90_before'])} → {p90(row['p90_after'])}"
            )
    inp = plan.inputs
    print(f"\nNachfrage: {inp['demand_level']} (Stand {inp['demand_as_of']}); Zielgruppe: {inp['target_group']}")
    for note in plan.notes:
        print(f"Hinweis: {note}")
    if saved:
        print(f"Als Szenario »{saved}« gespeichert.")


def _print_sites(plan: Any, s: dict[str, Any]) -> None:
    """The decision lines, the new sites with their committee margins, the costs and the budget frontier."""
    d = plan.decisions
    for line in [] if d is None else d.lines(s["share_before"], s["share_after"]):
        print(line)
    print("\nNeue Standorte (in Auswahlreihenfolge):")
    for site in plan.explanation.sites:
        print(f"  {site.reason}")
        margin = None if d is None else d.margin_of(site.candidate_index)
        if margin is not None:
            print(f"    Für den Ausschuss: {margin.reason}")
        if d is not None and d.variants is not None:
            chosen = d.variants.chosen_in(site.candidate_index)
            print(f"    In {chosen} von {len(d.variants.names)} Varianten für sich allein gewählt.")
    if d is not None and d.costs is not None:
        print("\nKosten:")
        for label, value in cost_lines(d.costs, plan.inputs.get("target_group")):
            print(f"  {label}: {value}")
        for note in d.costs.notes:
            print(f"  Hinweis: {note}")
    if d is not None and d.frontier is not None:
        print(f"\nBudget-Grenze ({d.frontier.cost_label}):")
        for _, row in d.frontier.table().iterrows():
            own = d.basis_cost is not None and bool(np.isclose(row["budget"], d.basis_cost))  # the chart's diamond
            print(
                f"  Budget {de_int(row['budget']):>12} €: {de_share(row['share']):>7} erreicht, "
                f"{de_count(row['n_sites'], 'neuer Standort', 'neue Standorte')}, {row['status']}"
                + ("  ← Kosten dieses Plans" if own else "")
            )
