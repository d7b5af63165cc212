"""One planning question as one frozen object: :class:`AnalysisRequest`.

The Versorgungslücken page, the Standortplanung page, the Bericht page, the
CLI, saved scenarios and batch runs all build an :class:`AnalysisRequest` and
hand it to the one pipeline (:mod:`integrationsatlas.pipeline`), so two places
asking the same question get the same answer. r5py's ``RegionalTask`` is the
model. A request is hashable and picklable (it keys caches and travels to
batch workers), turns into plain JSON (:meth:`AnalysisRequest.as_dict`, stored
with a scenario, which therefore re-runs exactly) and has a stable
:attr:`~AnalysisRequest.key` for caching and batch reruns. It says itself in
plain German (:meth:`AnalysisRequest.describe`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from geo.areasets.storage import check_name
from geo.errors import DataError
from geo.formatting import de_count, de_number
from geo.layers.registry import REGISTRY
from geo.modes import MODES, next_tuesday, travel_mode
from geo.units import LEVEL_TITLES, LEVELS, level_of
from planning.costs import COST_BASES, PROGRAMMES
from planning.siting.models import SITING_MODELS, siting_model
from planning.siting.robust import ROBUST_OBJECTIVES
from planning.uncertainty import DEFAULT_LEVEL, DEFAULT_RESAMPLES

#: Unit of a threshold: straight-line kilometres or door-to-door minutes.
Unit = Literal["km", "min"]
#: Where the demand comes from: the best available, or one source on purpose.
DemandSource = Literal["auto", "zensus", "osm", "gebiet", "gemeinde", "orte"]
DEMAND_SOURCES: tuple[str, ...] = ("auto", "zensus", "osm", "gebiet", "gemeinde", "orte")
#: Target groups that need no column name.
TARGET_GROUPS: tuple[str, ...] = ("total", "foreign", "u3", "kita_ue3", "grundschule", "u18")
#: Default departure window of public-transport questions (seconds after midnight).
DEFAULT_WINDOW: tuple[int, int] = (7 * 3600, 9 * 3600)
#: Candidate layers used by default (public places that could host a new site).
DEFAULT_PLACE_LAYERS: tuple[str, ...] = (
    "ki",
    "integrationsagentur",
    "gemeinschaftszentrum",
    "bahnhof",
    "ogs",
    "haltestelle",
)
#: Version of the JSON form (:meth:`AnalysisRequest.as_dict`).
REQUEST_FORMAT = 1
_AGS_PREFIX = re.compile(r"^05\d{0,10}$")


@dataclass(frozen=True)
class AreaRef:
    """The area a question is about.

    Parameters
    ----------
    code
        An AGS prefix (``05`` Land, ``051`` Regierungsbezirk, ``05334``
        Kreis, ``05334002`` Gemeinde) or, with ``set``, the key of one area
        of that area set (empty: all of its areas).
    set
        Name of an area set (Stadtteile, Sozialräume …); ``None`` for the
        administrative units.
    """

    code: str = "05"
    set: str | None = None

    @property
    def is_administrative(self) -> bool:
        """Whether ``code`` is an AGS prefix."""
        return self.set is None

    @classmethod
    def parse(cls, text: str | None) -> AreaRef:
        """An area as written on the command line: an AGS, ``SET`` (all its areas) or ``SET:KEY`` (one area).

        >>> AreaRef.parse("05334"), AreaRef.parse("koeln-stadtteile:101"), AreaRef.parse("koeln-stadtteile")
        (AreaRef(code='05334', set=None), AreaRef(code='101', set='koeln-stadtteile'), \
AreaRef(code='', set='koeln-stadtteile'))
        """
        value = (text or "").strip() or "05"
        if value[:1].isdigit():
            return cls(value)
        name, _, key = value.partition(":")
        return cls(key.strip(), set=name.strip())

    def __str__(self) -> str:
        return self.code if self.set is None else f"{self.set}:{self.code}" if self.code else self.set


@dataclass(frozen=True)
class VariantSpec:
    """The variants a siting plan is evaluated across (and, with an objective, planned for).

    The base case (the request itself) is always the first variant.

    Parameters
    ----------
    demand
        Demand variants drawn from the documented noise of the demand
        (:func:`planning.variants.demand_variants`; 0: none).
    closures
        One variant per existing site that closes, for the existing sites
        whose closure loses the most people (0: none).
    windows
        Further departure windows (seconds after midnight) of a
        public-transport question.
    days
        Further service days (ISO dates, e.g. a Saturday and a Sunday: the
        day types) of a public-transport question.
    objective
        ``None``: plan with the request's model and evaluate the plan in
        every variant; ``"worst"`` or ``"expected"``: plan with the robust
        MCLP over the variants (:data:`planning.siting.robust.ROBUST_OBJECTIVES`).
    """

    demand: int = 0
    closures: int = 0
    windows: tuple[tuple[int, int], ...] = ()
    days: tuple[str, ...] = ()
    objective: str | None = None

    @property
    def count(self) -> int:
        """Number of variants besides the base case."""
        return self.demand + self.closures + len(self.windows) + len(self.days)

    def problems(self) -> list[str]:
        """German descriptions of every invalid setting."""
        out: list[str] = []
        if self.demand < 0 or self.closures < 0:
            out.append("die Zahl der Nachfrage- und Schließungsvarianten muss ≥ 0 sein")
        if self.objective is not None and self.objective not in ROBUST_OBJECTIVES:
            out.append(f"robustes Ziel »{self.objective}« unbekannt: erlaubt sind {', '.join(ROBUST_OBJECTIVES)}")
        if self.objective is not None and self.count == 0:
            out.append("robust planen braucht mindestens eine Variante (Nachfrage, Schließungen, Fenster oder Tage)")
        for start, end in self.windows:
            if not 0 <= start < end <= 48 * 3600:
                out.append("jedes weitere Abfahrtsfenster muss mit dem Beginn vor dem Ende liegen")
        for day in self.days:
            try:
                date.fromisoformat(day)
            except ValueError:
                out.append(f"weiterer Verkehrstag »{day}« bitte als JJJJ-MM-TT angeben")
        return out


@dataclass(frozen=True)
class SitingSpec:
    """The siting part of a request: model, number of sites, budget, candidates.

    Parameters
    ----------
    model
        A model of :data:`planning.siting.models.SITING_MODELS`.
    p
        Number of **new** sites (ignored by models that choose it).
    budget, cost_column, default_site_cost
        Budget in EUR; the candidate column with a site's cost; the cost of
        candidates without one.
    keep_existing
        Whether the existing facilities of the request's layer stay open
        (fixed sites); the "before" state is then the coverage report's.
    place_layers, n_clusters, grid_spacing_m, user_points
        Candidate sources: public places (layers), demand-weighted cluster
        centres, a grid (``None``: automatic, ``0``: none) and own points
        ``(x, y, name)`` in EPSG:25832.
    min_distance_to_existing_m, merge_tolerance_m
        Candidate filters (metres).
    min_per_gemeinde, min_per_level
        At least this many sites in every unit of ``min_per_level`` (a level
        of :func:`geo.levels.analysis_level`: the Gemeinden by default, or an
        area set such as the Stadtteile) that has candidates.
    sensitivity_ps, sensitivity_radii
        New-site counts for the coverage-vs-p curve (``None``: 0 … p+3;
        empty: none) and further thresholds (in the request's unit).
    time_limit, top_k, random_state
        Solver time limit per solve (s), runner-ups per site, cluster seed.
    one_off_column, default_one_off
        The candidate column with a site's one-off cost (set-up,
        renovation), and the one-off cost of candidates without one. The
        yearly cost is ``cost_column``/``default_site_cost``.
    cost_by_type
        The council's costs per site type (the candidates' ``source``, e.g.
        ``"Clusterzentrum"``): ``(type, yearly, one_off)``; they come before
        the uniform defaults.
    programme, programme_figures
        A funding programme of :data:`planning.costs.PROGRAMMES` paying part
        of the yearly cost, and changed figures of it (``(field, value)``,
        e.g. ``("allocation_per_year", 80000.0)``).
    cost_basis, annualise_years
        What the budget and the frontier count
        (:data:`planning.costs.COST_BASES`: ``yearly``, ``one_off`` or
        ``annualised``: yearly plus the one-off cost over
        ``annualise_years``).
    frontier_points
        Budgets of the budget frontier (people reached against budget, each
        solved exactly); 0: no frontier.
    new_site_places
        Places of each new site where the layer has places (Kita, OGS,
        accommodation); ``None``: unknown (the new sites count without a
        limit, and the figures say so).
    variants
        Variants the plan is evaluated across, or planned for robustly.
    """

    model: str = "mclp"
    p: int = 5
    budget: float | None = None
    cost_column: str | None = None
    default_site_cost: float | None = None
    keep_existing: bool = True
    place_layers: tuple[str, ...] = DEFAULT_PLACE_LAYERS
    n_clusters: int = 20
    grid_spacing_m: float | None = None
    user_points: tuple[tuple[float, float, str], ...] = ()
    min_distance_to_existing_m: float = 0.0
    merge_tolerance_m: float = 50.0
    min_per_gemeinde: int = 0
    min_per_level: str = "gemeinde"
    sensitivity_ps: tuple[int, ...] | None = None
    sensitivity_radii: tuple[float, ...] = ()
    time_limit: float = 60.0
    top_k: int = 3
    random_state: int = 0
    one_off_column: str | None = None
    default_one_off: float | None = None
    cost_by_type: tuple[tuple[str, float, float], ...] = ()
    programme: str | None = None
    programme_figures: tuple[tuple[str, float], ...] = ()
    cost_basis: str = "yearly"
    annualise_years: float = 10.0
    frontier_points: int = 0
    new_site_places: float | None = None
    variants: VariantSpec | None = None

    def __post_init__(self) -> None:
        # normal form: settings without effect do not split one question into two keys
        if self.cost_basis != "annualised":
            object.__setattr__(self, "annualise_years", 10.0)
        if self.programme is None:
            object.__setattr__(self, "programme_figures", ())
        if self.variants is not None and self.variants.count == 0 and self.variants.objective is None:
            object.__setattr__(self, "variants", None)

    @property
    def has_costs(self) -> bool:
        """Whether the sites have yearly costs (a cost column, a default or costs per site type)."""
        return self.cost_column is not None or self.default_site_cost is not None or bool(self.cost_by_type)

    def problems(self) -> list[str]:
        """German descriptions of every invalid setting (empty when valid)."""
        out: list[str] = []
        if self.model not in SITING_MODELS:
            out.append(f"Modell »{self.model}« unbekannt: erlaubt sind {', '.join(SITING_MODELS)}")
            return out
        model = siting_model(self.model)
        if model.needs_p and self.p < 0:
            out.append("p (Anzahl neuer Standorte) muss ≥ 0 sein")
        if self.budget is not None and not model.supports_budget:
            out.append(f"ein Budget ist beim Modell {self.model} nicht möglich ({model.label})")
        out += self._cost_problems(model)
        if self.new_site_places is not None and not self.new_site_places >= 0:
            out.append("die Plätze je neuem Standort müssen ≥ 0 sein")
        if self.variants is not None:
            out += self.variants.problems()
            if self.variants.objective is not None and model.objective != "coverage":
                out.append(f"robust planen geht nur mit einem Abdeckungsmodell (MCLP), nicht mit {model.label}")
            if self.variants.objective is not None and not model.needs_p and self.budget is None:
                out.append("robust planen braucht eine Anzahl neuer Standorte (p) oder ein Budget")
        if self.min_per_gemeinde < 0:
            out.append("die Mindestzahl je Gemeinde muss ≥ 0 sein")
        if self.min_per_level not in LEVELS:
            out += _name_problems(self.min_per_level, "Mindestzahl je Einheit")
        if not self.time_limit > 0:
            out.append("das Zeitlimit muss größer als 0 s sein")
        return out

    def _cost_problems(self, model: Any) -> list[str]:
        """Problems of the costs, the programme, the budget basis and the frontier."""
        out: list[str] = []
        if (self.budget is not None or self.frontier_points > 0) and not self.has_costs:
            out.append(
                "für ein Budget oder die Budget-Grenze bitte die Kostenspalte (--cost-column) oder einheitliche "
                "Kosten je Standort (--site-cost) angeben"
            )
        if not self.has_costs and (self.one_off_column is not None or self.default_one_off is not None):
            out.append("zu den Einmalkosten bitte auch die jährlichen Kosten angeben (Spalte oder Vorgabe)")
        if self.programme is not None and not self.has_costs:
            out.append("für ein Förderprogramm bitte die jährlichen Kosten der Standorte angeben")
        if self.frontier_points > 0 and model.objective != "coverage":
            out.append(f"die Budget-Grenze gibt es nur für Abdeckungsmodelle, nicht für {model.label}")
        if self.frontier_points < 0:
            out.append("die Zahl der Budgetpunkte muss ≥ 0 sein")
        if self.programme is not None and self.programme not in PROGRAMMES:
            out.append(f"Förderprogramm »{self.programme}« unbekannt: erlaubt sind {', '.join(PROGRAMMES)}")
        elif self.programme is not None:
            editable = PROGRAMMES[self.programme].editable()
            out += [
                f"»{name}« ist keine änderbare Kennzahl des Programms"
                for name, _ in self.programme_figures
                if name not in editable
            ]
        if self.cost_basis not in COST_BASES:
            out.append(f"Kostenbasis »{self.cost_basis}« unbekannt: erlaubt sind {', '.join(COST_BASES)}")
        if not self.annualise_years > 0:
            out.append("die Laufzeit für die Verteilung der Einmalkosten muss > 0 Jahre sein")
        costs = [self.default_site_cost, self.default_one_off, *(c for row in self.cost_by_type for c in row[1:])]
        if any(c is not None and not c >= 0 for c in costs):
            out.append("Kosten müssen Zahlen ≥ 0 sein")
        return out


@dataclass(frozen=True)
class AnalysisRequest:
    """A planning question: where, what, for whom, how measured, from which data.

    Parameters
    ----------
    layer
        The facility layer analysed (coverage of it; siting plans more of it).
    threshold
        The threshold in ``unit``.
    unit
        ``km``: straight line in EPSG:25832; ``min``: door-to-door travel
        time by ``mode`` on the street network of ``osm_file``.
    mode
        A travel mode of :data:`geo.modes.MODES` (``None`` for ``km``).
    area
        The area (an AGS prefix, or a unit of an area set).
    by
        Units of the gap table: ``land``, ``regbez``, ``kreis``, ``gemeinde``
        or the name of a stored area set (:func:`geo.levels.analysis_level`).
    target_group, target_column
        Whose demand counts: ``total``, ``foreign``, a Zensus group, or
        ``column`` with the demand column.
    demand
        Demand source: ``auto`` (Zensus grid if loaded, else the 100 m
        estimate from the buildings of ``osm_file``, else Gemeinden, else
        places) or one of them on purpose.
    osm_file
        OSM extract: the street network and the buildings of the estimate.
    gtfs_file, day, window
        Timetable, service day (ISO date; fixed when the request is made, so
        a rerun asks about the same day) and departure window (seconds after
        midnight) of a public-transport question.
    siting
        For siting questions: model, p or budget, candidates, fixed sites.
    places
        Whether coverage and siting respect places where the layer declares a
        capacity column (a person counts as served only where a place within
        the threshold is free); the figure without places is given beside it.
    resamples, interval_level
        Resamples of the demand's documented noise for the intervals of every
        share and gain (0: no intervals), and the intervals' level.
    place_share
        The council's share of the place type's people among the residents
        (e.g. children under 6), used for the places when the Zensus age
        groups are not loaded (``None``: not entered).
    """

    layer: str
    threshold: float
    unit: Unit = "km"
    mode: str | None = None
    area: AreaRef = field(default_factory=AreaRef)
    by: str = "kreis"
    target_group: str = "total"
    target_column: str | None = None
    demand: DemandSource = "auto"
    osm_file: str | None = None
    gtfs_file: str | None = None
    day: str | None = None
    window: tuple[int, int] = DEFAULT_WINDOW
    siting: SitingSpec | None = None
    places: bool = True
    resamples: int = DEFAULT_RESAMPLES
    interval_level: float = DEFAULT_LEVEL
    place_share: float | None = None

    def __post_init__(self) -> None:
        # normal form: the same question always has the same fields (and so the same key)
        set_ = object.__setattr__
        if isinstance(self.area, str):
            set_(self, "area", AreaRef.parse(self.area))
        set_(self, "threshold", float(self.threshold))
        for name in ("osm_file", "gtfs_file"):
            value = getattr(self, name)
            set_(self, name, str(value) if value not in (None, "") else None)
        set_(self, "window", (int(self.window[0]), int(self.window[1])))
        if self.unit == "km":
            set_(self, "mode", None)
        elif self.mode is None:
            set_(self, "mode", "walk")
        transit = self.mode in MODES and MODES[self.mode].needs_timetable
        if transit and self.day is None:
            set_(self, "day", next_tuesday().isoformat())
        if not transit:
            set_(self, "gtfs_file", None)
            set_(self, "day", None)
            set_(self, "window", DEFAULT_WINDOW)
        if self.target_group != "column":
            set_(self, "target_column", None)
        set_(self, "resamples", int(self.resamples))
        set_(self, "interval_level", float(self.interval_level))
        if not self.places:
            set_(self, "place_share", None)
        elif self.place_share is not None:
            set_(self, "place_share", float(self.place_share))
        variants = None if self.siting is None else self.siting.variants
        if self.siting is not None and variants is not None and not transit and (variants.windows or variants.days):
            # departure windows and day types exist only for timetable questions
            fewer = replace(variants, windows=(), days=())
            keep = fewer.count or fewer.objective is not None
            set_(self, "siting", replace(self.siting, variants=fewer if keep else None))

    # --- checks -----------------------------------------------------------------

    def validate(self) -> AnalysisRequest:
        """Check every field; all problems are reported together.

        Returns
        -------
        AnalysisRequest
            ``self``, for chaining.

        Raises
        ------
        DataError
            With every problem found, in German.
        """
        problems: list[str] = []
        if self.layer not in REGISTRY:
            problems.append(f"Ebene »{self.layer}« unbekannt")
        elif REGISTRY.get(self.layer).group not in ("facility", "poi"):
            problems.append(f"Ebene »{self.layer}« ist keine Einrichtungsebene")
        if self.unit not in ("km", "min"):
            problems.append(f"Einheit »{self.unit}« unbekannt: km (Luftlinie) oder min (Fahrzeit)")
        if not (self.threshold > 0 and self.threshold < float("inf")):
            problems.append(f"die Schwelle muss eine Zahl > 0 sein, nicht {self.threshold:g}")
        if self.area.is_administrative and not _AGS_PREFIX.match(self.area.code):
            problems.append(
                f"Gebiet »{self.area.code}« ist kein NRW-Gebietsschlüssel (AGS-Anfang, z. B. 05, 051, 05334 "
                "oder 05334002) und kein Gebietssatz (NAME oder NAME:NR)"
            )
        problems += _name_problems(self.area.set, "Gebiet")
        if self.by not in LEVELS:
            problems += _name_problems(self.by, "Einheiten (--by)")
        if self.demand not in DEMAND_SOURCES:
            problems.append(f"Nachfragequelle »{self.demand}« unbekannt: {', '.join(DEMAND_SOURCES)}")
        if self.target_group == "column" and not self.target_column:
            problems.append("für die Zielgruppe »Eigene Spalte« bitte den Spaltennamen angeben")
        problems += self._travel_problems() + self._decision_problems()
        if self.siting is not None:
            problems += self.siting.problems()
            if not self.area.is_administrative:
                problems.append(
                    f"Standortplanung braucht einen Kreis (5 Ziffern) oder eine Gemeinde (8 Ziffern), nicht den "
                    f"Gebietssatz »{self.area}«; die Gebiete eines Satzes als Regel: --area AGS --min-per-unit 1 "
                    f"--per {self.area.set}"
                )
            elif len(self.area.code) not in (5, 8):
                problems.append(
                    f"Standortplanung braucht einen Kreis (5 Ziffern) oder eine Gemeinde (8 Ziffern), "
                    f"nicht »{self.area.code}«"
                )
        if problems:
            raise DataError("Ungültige Anfrage:\n- " + "\n- ".join(problems))
        return self

    def _decision_problems(self) -> list[str]:
        """Problems of the resampling and place settings (German)."""
        out: list[str] = []
        if self.resamples < 0:
            out.append("die Zahl der Stichproben muss ≥ 0 sein")
        if self.place_share is not None and not 0 < self.place_share <= 1:
            out.append("der Anteil der Nachfrage nach Plätzen an den Einwohnern muss zwischen 0 und 1 liegen")
        if not 0 < self.interval_level < 1:
            out.append(f"das Intervallniveau muss zwischen 0 und 1 liegen, nicht {self.interval_level:g}")
        return out

    def _travel_problems(self) -> list[str]:
        if self.unit != "min":
            return []
        out: list[str] = []
        if self.mode not in MODES:
            out.append(f"Modus »{self.mode}« unbekannt: erlaubt sind {', '.join(MODES)}")
        if self.osm_file is None:
            out.append("für Fahrzeiten bitte eine OSM-Datei angeben (--osm DATEI.osm.pbf)")
        elif not Path(self.osm_file).is_file():
            out.append(f"OSM-Datei {self.osm_file} nicht gefunden")
        if self.mode in MODES and MODES[self.mode].needs_timetable:
            if self.gtfs_file is None or not Path(self.gtfs_file).is_file():
                out.append("für Bus und Bahn bitte einen vorhandenen GTFS-Fahrplan angeben (--gtfs FAHRPLAN.zip)")
            try:
                date.fromisoformat(str(self.day))
            except ValueError:
                out.append(f"Verkehrstag »{self.day}« bitte als JJJJ-MM-TT angeben")
            if not 0 <= self.window[0] < self.window[1] <= 48 * 3600:
                out.append("das Abfahrtsfenster muss mit dem Beginn vor dem Ende liegen")
        return out

    # --- derived ------------------------------------------------------------------

    @property
    def travel_mode(self) -> Any:
        """The :class:`geo.modes.TravelMode` of a travel-time question (``None`` for straight lines)."""
        return None if self.mode is None else travel_mode(self.mode)

    @property
    def uses_time(self) -> bool:
        """Whether the threshold is a travel time."""
        return self.unit == "min"

    @property
    def threshold_base(self) -> float:
        """The threshold in metres (``km``) or seconds (``min``)."""
        return self.threshold * (60.0 if self.uses_time else 1000.0)

    @property
    def threshold_m(self) -> float:
        """The distance the question turns on (metres): straight line, or time × the mode's reach speed."""
        if not self.uses_time:
            return self.threshold * 1000.0
        return float(travel_mode(str(self.mode)).reach_m(self.threshold))

    @property
    def threshold_label(self) -> str:
        """The threshold in German, e.g. ``"15 Minuten zu Fuß"`` or ``"5 km Luftlinie"``."""
        if self.uses_time:
            how = MODES[self.mode].phrase if self.mode in MODES else str(self.mode)
            return f"{de_number(self.threshold, 0 if self.threshold.is_integer() else 1)} Minuten {how}"
        return f"{de_number(self.threshold, 0 if self.threshold.is_integer() else 1)} km Luftlinie"

    def with_(self, **changes: Any) -> AnalysisRequest:
        """A copy with some fields changed (normalised again)."""
        return replace(self, **changes)

    def coverage_part(self) -> AnalysisRequest:
        """The same question without its siting part (the "before" state of a siting plan)."""
        return replace(self, siting=None)

    # --- serialising ----------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (tuples as lists), with the format version."""
        data = _plain(asdict(self))
        data["format"] = REQUEST_FORMAT
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisRequest:
        """Rebuild a request from :meth:`as_dict` (also from the parameters of older saved scenarios).

        Raises
        ------
        DataError
            If the dict is neither form.
        """
        data = dict(data)
        if "layer" not in data and "area" in data and isinstance(data.get("area"), str):
            return _from_legacy_siting(data)
        data.pop("format", None)
        try:
            area = data.pop("area", None) or {}
            siting = data.pop("siting", None)
            window = tuple(data.pop("window", DEFAULT_WINDOW))
            known = {f.name for f in fields(cls)}
            return cls(
                **{k: v for k, v in data.items() if k in known},
                area=AreaRef(**area) if isinstance(area, dict) else AreaRef(str(area)),
                window=(int(window[0]), int(window[1])),
                siting=None if siting is None else _siting_from_dict(siting),
            )
        except (TypeError, ValueError) as exc:
            raise DataError(f"Gespeicherte Anfrage unlesbar ({exc}).") from exc

    @property
    def key(self) -> str:
        """A stable hash of the question (16 hex digits): the same request gives the same key in any process.

        >>> AnalysisRequest("ki", 15).key == AnalysisRequest("ki", 15.0, area=AreaRef("05")).key
        True
        """
        text = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]

    # --- words --------------------------------------------------------------------

    def describe(self, area_name: str | None = None, layer_title: str | None = None) -> str:
        """The question in one plain German sentence (printed once at the top of a report).

        >>> print(AnalysisRequest("ki", 15, area=AreaRef("05334")).describe("Städteregion Aachen", "KI"))
        Welcher Anteil der Gesamtbevölkerung in Städteregion Aachen (Kreis / kreisfreie Stadt, AGS 05334) erreicht
        eine Einrichtung der Art »KI« in höchstens 15 km Luftlinie? Nachfrage: beste verfügbare Quelle; Ergebnis
        je Kreis. Jeder Anteil mit 90-%-Intervall aus 200 Stichproben der Unsicherheit der Nachfrage.
        """
        # name, level and key: »Köln« alone could be the city or the Regierungsbezirk
        level = LEVEL_TITLES[level_of(self.area.code)] if self.area.is_administrative else ""
        where = f"{area_name} ({level}, AGS {self.area.code})" if area_name else f"Gebiet {self.area.code}"
        if not self.area.is_administrative:
            where = f"{area_name or self.area.code or 'allen Gebieten'} (Gebietssatz »{self.area.set}«)"
        title = layer_title or (REGISTRY.get(self.layer).title if self.layer in REGISTRY else self.layer)
        who = _target_words(self.target_group, self.target_column)
        how = self.threshold_label
        if self.uses_time:
            how += f", von Tür zu Tür auf dem Straßennetz aus {Path(str(self.osm_file)).name}"
            if self.mode in MODES and MODES[self.mode].needs_timetable:
                how += (
                    f" und dem Fahrplan {Path(str(self.gtfs_file)).name} (Verkehrstag {_german_day(self.day)}, "
                    f"Abfahrt {_hm(self.window[0])}–{_hm(self.window[1])}, Median über jede Minute)"
                )
        text = f"Welcher Anteil der {who} in {where} erreicht eine Einrichtung der Art »{title}« in höchstens {how}?"
        source = {
            "auto": "beste verfügbare Quelle",
            "zensus": "Zensus-Gitter",
            "osm": "Schätzung aus OSM-Gebäuden",
            "gebiet": "Einwohner je Gebiet des Gebietssatzes",
            "gemeinde": "Gemeindebevölkerung",
            "orte": "Orte mit Kreisbevölkerung",
        }.get(self.demand, self.demand)
        text += f" Nachfrage: {source}; Ergebnis je {_by_words(self.by)}."
        if self.siting is not None:
            s, model = self.siting, siting_model(self.siting.model)
            count = "so wenige neue Standorte wie nötig"
            if model.needs_p:
                count = de_count(s.p, "neuer Standort", "neue Standorte")
            text += f" Standortplanung: {model.label}, {count}"
            text += ", bestehende Einrichtungen bleiben geöffnet" if s.keep_existing else ", ohne bestehende"
            if s.budget is not None:
                text += f", Budget {de_number(s.budget, 0)} €"
            text += "." + _decision_words(s)
        if self.resamples > 0:
            text += (
                f" Jeder Anteil mit {de_number(self.interval_level * 100, 0)}-%-Intervall aus "
                f"{self.resamples} Stichproben der Unsicherheit der Nachfrage."
            )
        return text


def _decision_words(s: SitingSpec) -> str:
    """The costs, programme, frontier and variants of a siting part in plain German (empty without them)."""
    parts = []
    if s.has_costs:
        parts.append(f"Kosten nach Angaben des Kreises ({s.cost_basis.replace('_', '-')})")
    if s.programme is not None:
        parts.append(f"Förderprogramm {PROGRAMMES[s.programme].label}")
    if s.frontier_points:
        parts.append(f"Budget-Grenze mit {s.frontier_points} Budgets")
    if s.variants is not None:
        v = s.variants
        how = "robust geplant" if v.objective else "nachgerechnet"
        parts.append(f"{v.count} Varianten ({how})")
    return (" " + "; ".join(parts) + ".") if parts else ""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _siting_from_dict(data: dict[str, Any]) -> SitingSpec:
    data = dict(data)
    for name in ("place_layers", "sensitivity_radii"):
        if name in data and data[name] is not None:
            data[name] = tuple(data[name])
    data["cost_by_type"] = tuple((str(k), float(y), float(o)) for k, y, o in data.get("cost_by_type") or ())
    data["programme_figures"] = tuple((str(k), float(v)) for k, v in data.get("programme_figures") or ())
    variants = data.get("variants")
    if isinstance(variants, dict):
        data["variants"] = VariantSpec(
            demand=int(variants.get("demand", 0)),
            closures=int(variants.get("closures", 0)),
            windows=tuple((int(a), int(b)) for a, b in variants.get("windows") or ()),
            days=tuple(str(d) for d in variants.get("days") or ()),
            objective=variants.get("objective"),
        )
    if data.get("sensitivity_ps") is not None:
        data["sensitivity_ps"] = tuple(int(p) for p in data["sensitivity_ps"])
    data["user_points"] = tuple((float(x), float(y), str(n)) for x, y, n in data.get("user_points") or ())
    known = {f.name for f in fields(SitingSpec)}
    return SitingSpec(**{k: v for k, v in data.items() if k in known})


def _from_legacy_siting(p: dict[str, Any]) -> AnalysisRequest:
    """A request from the ``parameters`` of a scenario saved before requests existed (``SitingParams``)."""
    minutes = p.get("minutes")
    siting = _siting_from_dict(
        {
            **{k: v for k, v in p.items() if k in {f.name for f in fields(SitingSpec)}},
            "keep_existing": p.get("fixed_layer") is not None,
        }
    )
    window = p.get("transit_window") or DEFAULT_WINDOW
    return AnalysisRequest(
        layer=str(p.get("fixed_layer") or "ankommenstreffpunkt"),
        threshold=float(minutes if minutes is not None else p.get("radius_km") or 0.0),
        unit="min" if minutes is not None else "km",
        mode=p.get("mode"),
        area=AreaRef(str(p["area"])),
        target_group=str(p.get("target_group") or "total"),
        target_column=p.get("target_column"),
        osm_file=p.get("osm_file"),
        gtfs_file=p.get("gtfs_file"),
        day=p.get("transit_day"),
        window=(int(window[0]), int(window[1])),
        siting=siting,
    )


def _target_words(group: str, column: str | None) -> str:
    return {
        "total": "Gesamtbevölkerung",
        "foreign": "ausländischen Bevölkerung",
        "u3": "Kinder unter 3 Jahren",
        "kita_ue3": "Kinder von 3 bis unter 6 Jahren",
        "grundschule": "Kinder im Grundschulalter",
        "u18": "Kinder und Jugendlichen unter 18 Jahren",
    }.get(group, f"Nachfrage der Spalte »{column}«")


def _by_words(by: str) -> str:
    return {"kreis": "Kreis", "gemeinde": "Gemeinde", "land": "Land", "regbez": "Regierungsbezirk"}.get(
        by, f"Gebiet des Gebietssatzes »{by}«"
    )


def _name_problems(name: str | None, what: str) -> list[str]:
    """The problem with an area-set name (empty when it is a valid name or ``None``)."""
    if name is None:
        return []
    try:
        check_name(name)
    except DataError as exc:
        return [f"{what}: {exc}"]
    return []


def _hm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


def _german_day(day: str | None) -> str:
    try:
        return f"{date.fromisoformat(str(day)):%d.%m.%Y}"
    except ValueError:
        return str(day)
