"""``integrationsatlas scenarios``: list, show, compare and delete saved siting plans.

Examples::

    integrationsatlas scenarios list
    integrationsatlas scenarios show "Aachen 5 neue" --json
    integrationsatlas scenarios compare "Aachen 3 neue" "Aachen 5 neue"
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from geo.formatting import de_count, de_int, de_number, de_points, de_share
from geo.settings import Settings
from geo.store.scenarios import Scenario, delete_scenario, list_scenarios, load_scenario
from integrationsatlas.cli._output import emit_json, frame_records
from integrationsatlas.scenarios import compare_scenarios, question_differences
from integrationsatlas.siting_candidates import gemeinde_names


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenarios`` subcommand with ``list``, ``show``, ``compare`` and ``delete``."""
    p = sub.add_parser("scenarios", help="gespeicherte Standortszenarien anzeigen und vergleichen")
    actions = p.add_subparsers(dest="action", metavar="AKTION")
    actions.required = True
    lst = actions.add_parser("list", help="alle gespeicherten Szenarien")
    show = actions.add_parser("show", help="ein Szenario mit Standorten und Ergebnissen")
    show.add_argument("name", metavar="NAME")
    cmp_ = actions.add_parser("compare", help="zwei Szenarien je Gemeinde vergleichen (B minus A)")
    cmp_.add_argument("a", metavar="A")
    cmp_.add_argument("b", metavar="B")
    delete = actions.add_parser("delete", help="ein Szenario löschen")
    delete.add_argument("name", metavar="NAME")
    for sp in (lst, show, cmp_, delete):
        sp.add_argument("--json", action="store_true", help="ein JSON-Dokument ausgeben")
        sp.set_defaults(func=run)


def scenario_document(sc: Scenario) -> dict[str, Any]:
    """A saved scenario as a JSON-friendly document."""
    return {
        "name": sc.name,
        "created_at": sc.created_at,
        "area": {"ags": sc.area_ags, "name": sc.area_name},
        "model": sc.model,
        "parameters": dict(sc.parameters),
        "layers": dict(sc.layers),
        "demand_level": sc.demand_level,
        "target_group": sc.target_group,
        "results": dict(sc.results),
        "sites": [
            {**rec, "x": geom.x, "y": geom.y}
            for rec, geom in zip(frame_records(sc.sites), sc.sites.geometry, strict=True)
        ],
        "by_gemeinde": frame_records(sc.by_gemeinde),
    }


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out the chosen action."""
    if args.action == "list":
        table = list_scenarios(settings)
        if args.json:
            emit_json(frame_records(table))
        elif table.empty:
            print("Keine Szenarien gespeichert. Speichern mit »integrationsatlas sites … --save NAME«.")
        else:
            for _, r in table.iterrows():
                print(
                    f"{r['name']:<30} {r['area_ags']} {r['area_name']:<28} {r['model']:<8} "
                    f"{r['threshold'] or '–':<20} {int(r['n_new'])} neu + {int(r['n_fixed'])} bestehend  "
                    f"{de_share(r['share_before'])} → {de_share(r['share_after'])}  ({r['created_at'][:19]})"
                )
        return 0
    if args.action == "show":
        sc = load_scenario(settings, args.name)
        if args.json:
            emit_json(scenario_document(sc))
            return 0
        res = sc.results
        print(f"Szenario »{sc.name}« ({sc.created_at[:19]}): {sc.area_name} ({sc.area_ags}), Modell {sc.model}")
        print(
            f"Status {res.get('status')}, Zielwert {de_number(res.get('objective'), 1)}, "
            f"Abdeckung {de_share(res.get('share_before'))} → {de_share(res.get('share_after'))}"
        )
        print(f"Nachfrage: {sc.demand_level}; Zielgruppe: {sc.target_group}")
        if sc.rough:
            print(f"Nur grobe Näherung: {sc.rough}")
        for _, s in sc.fixed_sites.iterrows():
            ags = s["gemeinde_ags"]
            print(f"  bestehend: {s['name']} ({'–' if pd.isna(ags) or not ags else ags})")
        for _, s in sc.selected.iterrows():
            print(f"  {s['order']}. {s['name']} [{s['source']}] +{de_int(s['marginal_gain'])}")
        return 0
    if args.action == "compare":
        return _compare(settings, args.a, args.b, as_json=args.json)
    delete_scenario(settings, args.name)
    if not args.json:
        print(f"Szenario »{args.name}« gelöscht.")
    else:
        emit_json({"deleted": args.name})
    return 0


def _compare(settings: Settings, name_a: str, name_b: str, *, as_json: bool) -> int:
    """Print (or emit as JSON) two scenarios side by side, per Gemeinde; a rough scenario says so."""
    a, b = load_scenario(settings, name_a), load_scenario(settings, name_b)
    table = compare_scenarios(a, b, gemeinde_names(settings))
    differences = question_differences(a, b)
    if as_json:
        summary = {
            key: {"name": s.name, "share_after": s.results.get("share_after"), "n_new": len(s.selected),
                  "rough": s.rough or None}
            for key, s in (("a", a), ("b", b))
        }  # fmt: skip
        emit_json({**summary, "question_differences": differences, "by_gemeinde": frame_records(table)})
        return 0
    for letter, s in (("A", a), ("B", b)):
        new = de_count(len(s.selected), "neuer Standort", "neue Standorte")
        print(f"{letter} = »{s.name}«: {new}, Abdeckung {de_share(s.results.get('share_after'))}")
        if s.rough:
            print(f"    nur grobe Näherung, auch je Gemeinde: {s.rough}")
    if differences:
        print(
            f"Verschiedene Fragen ({'; '.join(differences)}): »vorher« ist das von A, B−A mischt Standorte und Frage."
        )
    print(f"\n{'AGS':<10} {'Gemeinde':<24} {'vorher':>8} {'A':>8} {'B':>8} {'B−A':>9} {'neu A':>6} {'neu B':>6}")
    for _, r in table.iterrows():
        diff = f"{de_points(r['share_after_a'], r['share_after_b'])} Pp"
        print(
            f"{r['gemeinde_ags']!s:<10} {str(r['gemeinde'])[:24]:<24} {de_share(r['share_before']):>8} "
            f"{de_share(r['share_after_a']):>8} "
            f"{de_share(r['share_after_b']):>8} {diff:>9} {r['sites_new_a']:>6} {r['sites_new_b']:>6}"
        )
    return 0
