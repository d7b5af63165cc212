"""The CLI vocabulary of a plan's decision figures: costs, funding programme, budget basis, frontier, variants.

``sites`` adds these options with :func:`add_decision_options` and turns them
into fields of :class:`~integrationsatlas.request.SitingSpec` with
:func:`decision_fields`; the page builds the same fields from its controls.
"""

from __future__ import annotations

import argparse
from typing import Any

from geo.errors import DataError
from integrationsatlas.cli._request import parse_window
from integrationsatlas.request import VariantSpec
from planning.costs import COST_BASES, EDITABLE_FIGURES, PROGRAMMES
from planning.siting.robust import ROBUST_OBJECTIVES


def add_decision_options(p: argparse.ArgumentParser) -> None:
    """Add the cost, programme, frontier, places and variant options of ``sites``."""
    costs = p.add_argument_group("Kosten und Förderung")
    costs.add_argument("--budget", type=float, metavar="EUR", help="Budget in Euro (auf der Kostenbasis)")
    costs.add_argument("--cost-column", metavar="SPALTE", help="Spalte mit den jährlichen Kosten je Kandidat")
    costs.add_argument(
        "--site-cost",
        type=float,
        metavar="EUR",
        help="jährliche Kosten je Kandidat, wo die Kostenspalte fehlt (Clusterzentren, Raster)",
    )
    costs.add_argument("--one-off-column", metavar="SPALTE", help="Spalte mit den einmaligen Kosten je Kandidat")
    costs.add_argument("--one-off-cost", type=float, metavar="EUR", help="einmalige Kosten je Kandidat ohne eigene")
    costs.add_argument(
        "--cost-by-type",
        action="append",
        default=[],
        metavar="TYP=JAHR[:EINMALIG]",
        help="Kosten je Standorttyp (Herkunft des Kandidaten, z. B. »Clusterzentrum=30000:8000«); mehrfach möglich",
    )
    costs.add_argument(
        "--programme",
        choices=tuple(PROGRAMMES),
        help="Förderprogramm, das einen Teil der jährlichen Kosten trägt: "
        + "; ".join(f"{k} ({v.label})" for k, v in PROGRAMMES.items()),
    )
    costs.add_argument(
        "--programme-figure",
        action="append",
        default=[],
        metavar="KENNZAHL=WERT",
        help=f"eine Kennzahl des Programms ändern ({', '.join(EDITABLE_FIGURES)}), z. B. "
        "»allocation_per_year=80000«; mehrfach möglich",
    )
    costs.add_argument(
        "--cost-basis",
        choices=COST_BASES,
        default="yearly",
        help="was Budget und Budget-Grenze zählen: yearly (jährlich), one_off (einmalig) oder annualised "
        "(jährlich plus Einmalkosten über --years Jahre)",
    )
    costs.add_argument("--years", type=float, default=10.0, metavar="N", help="Laufzeit für annualised (Standard 10)")
    costs.add_argument(
        "--frontier",
        type=int,
        default=0,
        metavar="N",
        help="Budget-Grenze mit N Budgets (Erreichte gegen Budget, jeder Punkt exakt gelöst); 0: keine",
    )
    places = p.add_argument_group("Plätze")
    places.add_argument(
        "--places-per-site",
        type=float,
        metavar="N",
        help="Plätze je neuem Standort (Kita, OGS, Unterkunft); ohne Angabe zählen neue Standorte ohne Platzgrenze",
    )
    variants = p.add_argument_group("Varianten und robuste Planung")
    variants.add_argument(
        "--variants-demand", type=int, default=0, metavar="N", help="N Nachfragevarianten aus der Unsicherheit"
    )
    variants.add_argument(
        "--variants-closures",
        type=int,
        default=0,
        metavar="N",
        help="je eine Variante für die N bestehenden Standorte, deren Schließung die meisten Menschen trifft",
    )
    variants.add_argument(
        "--variants-window",
        action="append",
        default=[],
        metavar="HH:MM-HH:MM",
        help="weiteres Abfahrtsfenster (nur --mode oepnv); mehrfach möglich",
    )
    variants.add_argument(
        "--variants-day",
        action="append",
        default=[],
        metavar="JJJJ-MM-TT",
        help="weiterer Verkehrstag, z. B. ein Samstag und ein Sonntag (nur --mode oepnv); mehrfach möglich",
    )
    variants.add_argument(
        "--robust",
        choices=tuple(ROBUST_OBJECTIVES),
        help="robust über alle Varianten planen: worst (schlechtester Fall) oder expected (Mittel)",
    )


def decision_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~integrationsatlas.request.SitingSpec` fields of the decision options.

    Raises
    ------
    DataError
        For a malformed ``TYP=JAHR[:EINMALIG]`` or ``KENNZAHL=WERT``.
    """
    variants = VariantSpec(
        demand=args.variants_demand,
        closures=args.variants_closures,
        windows=tuple(parse_window(w) for w in args.variants_window),
        days=tuple(args.variants_day),
        objective=args.robust,
    )
    return {
        "budget": args.budget,
        "cost_column": args.cost_column,
        "default_site_cost": args.site_cost,
        "one_off_column": args.one_off_column,
        "default_one_off": args.one_off_cost,
        "cost_by_type": tuple(_cost_by_type(text) for text in args.cost_by_type),
        "programme": args.programme,
        "programme_figures": tuple(_figure(text) for text in args.programme_figure),
        "cost_basis": args.cost_basis,
        "annualise_years": args.years,
        "frontier_points": args.frontier,
        "new_site_places": args.places_per_site,
        "variants": variants if variants.count or variants.objective else None,
    }


def _cost_by_type(text: str) -> tuple[str, float, float]:
    """``Typ=30000:8000`` → ``("Typ", 30000.0, 8000.0)``.

    >>> _cost_by_type("Clusterzentrum=30000:8000"), _cost_by_type("Raster=25000")
    (('Clusterzentrum', 30000.0, 8000.0), ('Raster', 25000.0, 0.0))
    """
    kind, sep, figures = text.partition("=")
    yearly, _, one_off = figures.partition(":")
    try:
        if not sep or not kind.strip():
            raise ValueError(text)
        return kind.strip(), float(yearly), float(one_off or 0.0)
    except ValueError:
        raise DataError(
            f"--cost-by-type »{text}« bitte als TYP=JAHR oder TYP=JAHR:EINMALIG angeben, "
            "z. B. Clusterzentrum=30000:8000."
        ) from None


def _figure(text: str) -> tuple[str, float]:
    """``allocation_per_year=80000`` → ``("allocation_per_year", 80000.0)``."""
    name, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError(text)
        return name.strip(), float(value)
    except ValueError:
        raise DataError(
            f"--programme-figure »{text}« bitte als KENNZAHL=WERT angeben, z. B. allocation_per_year=80000."
        ) from None
