"""Costs of a plan: one-off and yearly costs per site, the funding programmes of NRW, euros per person reached.

A council decides with a budget. This module holds

- :class:`SiteCosts`: one-off and yearly costs (and staff posts) per
  candidate, from columns or from a default per site type
  (:func:`site_costs`; no number is built in: the council's own figures);
- :class:`FundingProgramme`: the NRW programmes that pay part of those costs,
  each declared once with its sources and dates, editable with
  :func:`dataclasses.replace`, and carrying its own rule for the Land's and
  the municipal share (:meth:`FundingProgramme.split`);
- :func:`cost_summary`: total costs, the Land's and the municipal share, and
  **euros per newly reached person** (yearly cost of the new sites ÷ people
  they newly reach), also per target-group person.

Everything is plain arithmetic on arrays; nothing here is spatial.

Sources
-------
The programme figures are taken from public pages (cited in each
declaration). The documents in ``../shared/seeds`` describe the programmes
and their total volumes: KOMM-AN NRW with 13.4 million euros, of which 7.7
million for the volunteer work around the Ankommens-Treffpunkte, 1.5 million
for the Integrationsagenturen and 4.2 million for the Kommunale
Integrationszentren (»Faktencheck – Was NRW für die Integration tut«,
Pressestelle der NRWSPD, 2016); the Kommunales Integrationsmanagement with
10 million euros each for the strategic management and the case management
in 2020 (»Teilhabe- und Integrationsstrategie 2030«, 24.09.2019); the
Kommunale Integrationszentren, whose staff the Land pays while the
municipality provides rooms and material (»Integrationszentrum für den Kreis
Wesel«, 17.09.2012).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geo.errors import DataError, Problem, raise_if_problems
from geo.formatting import de_eur, de_number
from planning.citations import Citation
from planning.siting.result import _frozen_array

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CostSplit:
    """Who pays the yearly cost of each site: the Land (a programme) and the municipality.

    Attributes
    ----------
    programme
        Id of the programme (``None``: no programme, the municipality pays all).
    land, municipal
        Yearly euros per site.
    notes
        German notes (assumptions, a site below the minimum per measure …).
    """

    programme: str | None
    land: FloatArray
    municipal: FloatArray
    notes: tuple[str, ...] = ()

    @property
    def land_total(self) -> float:
        """The Land's yearly share of all sites."""
        return float(self.land.sum())

    @property
    def municipal_total(self) -> float:
        """The municipal yearly share of all sites."""
        return float(self.municipal.sum())


@dataclass(frozen=True)
class FundingProgramme:
    """A funding programme of the Land NRW and its rule for the Land's share of a site's yearly cost.

    Declared once in :data:`PROGRAMMES`; change a figure for another year or
    Kreis with :func:`dataclasses.replace`, e.g.
    ``replace(KOMM_AN_TREFFPUNKT, allocation_per_year=80_000.0, allocation_unit="Kreis Lippe")``.

    Parameters
    ----------
    id, label, label_en
        Identifier and names.
    site_type
        The layer id of the sites it usually pays for (``"ankommenstreffpunkt"`` …).
    land_rate
        Share of the eligible yearly cost the Land pays (``0.9`` = up to 90 %);
        ``None`` when the programme gives no rate.
    cap_per_post
        Most the Land pays per full-time post and year (euros).
    running_per_post
        Flat running costs per full-time post and year that count as
        eligible (euros), added to the staff cost.
    staff_cap
        Highest eligible pay grade (text, e.g. »TV-L EG 11, Stufe 5«) and
        ``staff_cap_per_post``, the yearly euros of that grade, which the
        council enters (``None``: staff cost not capped here).
    min_per_measure
        Smallest Land contribution per measure (euros); a site below it gets nothing.
    allocation_per_year, allocation_unit
        A yearly pot for one Kreis (euros) and whose it is; the Land's shares
        of all sites together never exceed it.
    sources
        The citations of the figures.
    notes
        Assumptions made where the source leaves a gap (German).
    """

    id: str
    label: str
    label_en: str
    site_type: str | None
    land_rate: float | None = None
    cap_per_post: float | None = None
    running_per_post: float | None = None
    staff_cap: str | None = None
    staff_cap_per_post: float | None = None
    min_per_measure: float | None = None
    allocation_per_year: float | None = None
    allocation_unit: str | None = None
    sources: tuple[Citation, ...] = ()
    notes: tuple[str, ...] = ()

    def split(self, yearly: ArrayLike, posts: ArrayLike | None = None) -> CostSplit:
        """The Land's and the municipal yearly share of each site under this programme.

        Parameters
        ----------
        yearly
            Yearly cost per site (euros).
        posts
            Full-time posts per site (default 1).

        Returns
        -------
        CostSplit

        Notes
        -----
        The rules, in order: the eligible cost is the yearly cost (with
        ``staff_cap_per_post``: at most that per post, plus the flat running
        costs per post); the Land pays ``land_rate`` of it (without a rate:
        all of it), at most ``cap_per_post`` per post; a share below
        ``min_per_measure`` is not paid; finally all shares together are
        scaled down to ``allocation_per_year``. The municipality pays the rest.

        Examples
        --------
        >>> KIM_COORDINATION.split([70_000.0, 40_000.0]).land.tolist()
        [57000.0, 40000.0]
        >>> s = KOMM_AN_INTEGRATIONSAGENTUR.split([100_000.0, 4_000.0])
        >>> s.land.tolist(), s.municipal.tolist()
        ([90000.0, 0.0], [10000.0, 4000.0])
        """
        cost = np.asarray(yearly, dtype=float).ravel()
        n_posts = np.ones(cost.size) if posts is None else np.broadcast_to(np.asarray(posts, dtype=float), cost.shape)
        notes = list(self.notes)
        eligible = cost.copy()
        if self.staff_cap_per_post is not None:
            running = (self.running_per_post or 0.0) * n_posts
            eligible = np.minimum(np.maximum(cost - running, 0.0), self.staff_cap_per_post * n_posts) + running
            eligible = np.minimum(eligible, cost)
        land = eligible * (1.0 if self.land_rate is None else self.land_rate)
        if self.cap_per_post is not None:
            land = np.minimum(land, self.cap_per_post * n_posts)
        if self.min_per_measure is not None:
            below = (land > 0) & (land < self.min_per_measure)
            if below.any():
                notes.append(
                    f"{int(below.sum())} Standort(e) unter der Mindestförderung von "
                    f"{de_eur(self.min_per_measure)} je Maßnahme: ohne Landesanteil."
                )
            land = np.where(below, 0.0, land)
        if self.allocation_per_year is not None and land.sum() > self.allocation_per_year:
            notes.append(
                f"Die Landesanteile übersteigen die Zuweisung ({self.allocation_unit or 'Kreis'}: "
                f"{de_number(self.allocation_per_year, 2)} € im Jahr) und sind anteilig gekürzt."
            )
            land = land * (self.allocation_per_year / land.sum())
        return CostSplit(self.id, land, cost - land, tuple(notes))

    def editable(self) -> dict[str, float | None]:
        """The figures a council may change (field → value), e.g. for another Kreis or year.

        >>> KIM_COORDINATION.editable()["cap_per_post"]
        57000.0
        """
        return {name: getattr(self, name) for name in EDITABLE_FIGURES}

    def with_figures(self, figures: Mapping[str, float | None]) -> FundingProgramme:
        """This programme with some figures changed (see :meth:`editable`).

        Raises
        ------
        DataError
            For a field that is not an editable figure, or a negative value.

        >>> KOMM_AN_TREFFPUNKT.with_figures({"allocation_per_year": 80_000.0}).allocation_per_year
        80000.0
        """
        bad = sorted(set(figures) - set(EDITABLE_FIGURES))
        negative = sorted(k for k, v in figures.items() if v is not None and not v >= 0)
        if bad or negative:
            raise DataError(
                f"Förderprogramm »{self.label}«: {', '.join(bad + negative)} ist keine änderbare Kennzahl oder "
                f"negativ. Änderbar sind {', '.join(EDITABLE_FIGURES)} (Zahlen ≥ 0)."
            )
        changed = {k: (None if v is None else float(v)) for k, v in figures.items()}
        if (changed.get("land_rate") or 0.0) > 1.0:
            raise DataError(f"Förderprogramm »{self.label}«: der Fördersatz ist ein Anteil zwischen 0 und 1.")
        return replace(self, **changed)  # type: ignore[arg-type]  # only float figures (checked above)

    def as_dict(self) -> dict[str, Any]:
        """The declaration as a JSON-ready dict (figures, sources, notes)."""
        return {
            "id": self.id,
            "label": self.label,
            "label_en": self.label_en,
            "site_type": self.site_type,
            "land_rate": self.land_rate,
            "cap_per_post": self.cap_per_post,
            "running_per_post": self.running_per_post,
            "staff_cap": self.staff_cap,
            "staff_cap_per_post": self.staff_cap_per_post,
            "min_per_measure": self.min_per_measure,
            "allocation_per_year": self.allocation_per_year,
            "allocation_unit": self.allocation_unit,
            "sources": [c.as_dict() for c in self.sources],
            "notes": list(self.notes),
        }


_SEED_FAKTENCHECK = Citation(
    "Faktencheck – Was NRW für die Integration tut",
    "Pressestelle der NRWSPD (in ../shared/seeds)",
    None,
    "2016",
    "KOMM-AN NRW mit 13,4 Mio. €: 7,7 Mio. € für das Ehrenamt (Ankommens-Treffpunkte), 1,5 Mio. € für "
    "Maßnahmen der Integrationsagenturen, 4,2 Mio. € für die Kommunalen Integrationszentren.",
)
_SEED_STRATEGIE = Citation(
    "Teilhabe- und Integrationsstrategie 2030",
    "NRW-Koalition (in ../shared/seeds)",
    "https://www.mkffi.nrw/nordrhein-westfaelische-teilhabe-und-integrationsstrategie-2030",
    "2019-09-24",
    "Kommunales Integrationsmanagement ab 2020 landesweit: je 10 Mio. € für das strategische Management und "
    "das rechtskreisübergreifende Case-Management, 5 Mio. € für die Ausländerbehörden.",
)

KOMM_AN_TREFFPUNKT = FundingProgramme(
    id="komm_an_treffpunkt",
    label="KOMM-AN NRW, Teil II: Ankommens-Treffpunkte (Zuweisung Kreis Höxter)",
    label_en="KOMM-AN NRW part II: arrival meeting points (allocation of Kreis Höxter)",
    site_type="ankommenstreffpunkt",
    allocation_per_year=70_289.82,
    allocation_unit="Kreis Höxter",
    sources=(
        Citation(
            "KOMM-AN NRW",
            "Kreis Höxter, Kommunales Integrationszentrum",
            "https://integration.kreis-hoexter.de/ehrenamtengagement/foerderantraege/komm-an-nrw/index.html",
            "2021",
            "Dem Kreis Höxter standen 2016 bis 2020 je 70.289,82 € im Jahr zur Verfügung, 2021 ebenso; "
            "anteilig gefördert werden u. a. Renovierung, Ausstattung und laufender Betrieb von "
            "Ankommenstreffpunkten (Baustein A).",
        ),
        _SEED_FAKTENCHECK,
    ),
    notes=(
        "Annahme: Die Quelle nennt keinen Fördersatz (»anteilig«); die Kosten der Treffpunkte werden bis "
        "zur Zuweisung des Kreises voll als Landesanteil gerechnet. Für einen anderen Kreis oder ein "
        "anderes Jahr die Zuweisung ändern.",
    ),
)
KOMM_AN_INTEGRATIONSAGENTUR = FundingProgramme(
    id="komm_an_integrationsagentur",
    label="KOMM-AN NRW, Teil III: Stärkung der Integrationsagenturen",
    label_en="KOMM-AN NRW part III: integration agencies",
    site_type="integrationsagentur",
    land_rate=0.9,
    running_per_post=8_800.0,
    staff_cap="TV-L EG 11, Stufe 5",
    min_per_measure=5_000.0,
    sources=(
        Citation(
            "KOMM-AN III – Programm zur Stärkung der Integrationsagenturen",
            "Bezirksregierung Arnsberg, Kompetenzzentrum für Integration",
            "https://www.bra.nrw.de/-2822",
            None,
            "Bis zu 90 % der zuwendungsfähigen Gesamtausgaben; Personalausgaben bis höchstens Entgeltgruppe 11, "
            "Stufe 5 TV-L; Sachausgaben als Pauschale von 8.800 € je voller Stelle und Förderjahr; "
            "Mindestfördersumme 5.000 € je Maßnahme.",
        ),
        _SEED_FAKTENCHECK,
    ),
    notes=(
        "Der Eurobetrag der Entgeltgruppe 11, Stufe 5 ist nicht hinterlegt; ohne ihn wird der Personalanteil "
        "nicht gedeckelt (Wert in staff_cap_per_post eintragen).",
    ),
)
KIM_COORDINATION = FundingProgramme(
    id="kim",
    label="Kommunales Integrationsmanagement (KIM): Personalkostenförderung je Stelle",
    label_en="Municipal integration management (KIM): staff funding per post",
    site_type=None,
    cap_per_post=57_000.0,
    sources=(
        Citation(
            "Umsetzung des Kommunalen Integrationsmanagements im Kreis Coesfeld (SV-10-0898)",
            "Kreis Coesfeld, Sitzungsvorlage",
            "https://www.kreis-coesfeld.de/sessionnet/sessionnetbi/vo0050.php?__kvonr=5924",
            "2023",
            "Die Personalkostenförderung für eine Vollzeitstelle umfasst 2023 57.000 € im Jahr.",
        ),
        _SEED_STRATEGIE,
    ),
)

#: The figures of a :class:`FundingProgramme` a council may change (its rule stays as declared).
EDITABLE_FIGURES: tuple[str, ...] = (
    "land_rate",
    "cap_per_post",
    "running_per_post",
    "staff_cap_per_post",
    "min_per_measure",
    "allocation_per_year",
)

#: The funding programmes by id.
PROGRAMMES: dict[str, FundingProgramme] = {
    p.id: p for p in (KOMM_AN_TREFFPUNKT, KOMM_AN_INTEGRATIONSAGENTUR, KIM_COORDINATION)
}


# --------------------------------------------------------------------------- costs per site


@dataclass(frozen=True)
class CostDefault:
    """The council's cost figures for one site type, used where a candidate has no own figure.

    Parameters
    ----------
    one_off, yearly
        Euros (one-off: set-up, renovation; yearly: rent, staff, running).
    posts
        Full-time posts per site (for programmes that pay per post).
    """

    one_off: float
    yearly: float
    posts: float = 1.0


@dataclass(frozen=True)
class SiteCosts:
    """One-off and yearly costs and staff posts of each candidate (arrays in candidate order, read-only).

    Attributes
    ----------
    one_off, yearly, posts
        Per candidate.
    origin
        Per candidate where the figure comes from (German: »Spalte …« or »Vorgabe für …«).
    """

    one_off: FloatArray
    yearly: FloatArray
    posts: FloatArray
    origin: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in ("one_off", "yearly", "posts"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), np.float64))


def site_costs(
    candidates: pd.DataFrame,
    *,
    yearly_col: str | None = "kosten_jahr",
    one_off_col: str | None = "kosten_einmalig",
    posts_col: str | None = None,
    type_col: str = "source",
    defaults: Mapping[str, CostDefault] | None = None,
) -> SiteCosts:
    """Costs per candidate: from its columns where filled, else from the default of its site type.

    Parameters
    ----------
    candidates
        The candidate frame (one row per candidate, in model column order).
    yearly_col, one_off_col, posts_col
        Columns with yearly cost, one-off cost (euros) and staff posts; a
        missing column counts as empty.
    type_col
        Column with the site type the defaults are keyed by (default:
        ``source``, e.g. »Schule«, »Gemeinschaftszentrum«).
    defaults
        :class:`CostDefault` per site type.

    Returns
    -------
    SiteCosts

    Raises
    ------
    ValidationError
        Listing every row without a cost and without a default for its type,
        and every negative or non-numeric cost (German, with row and column).

    Examples
    --------
    >>> c = pd.DataFrame({"source": ["Schule", "Kita"], "kosten_jahr": [None, 30_000]})
    >>> s = site_costs(c, defaults={"Schule": CostDefault(one_off=10_000, yearly=20_000)})
    >>> s.yearly.tolist(), s.one_off.tolist(), s.origin
    ([20000.0, 30000.0], [10000.0, 0.0], ('Vorgabe für Schule', 'Spalte »kosten_jahr«'))
    """
    problems: list[Problem] = []
    n = len(candidates)
    types = (
        candidates[type_col].astype("string").fillna("").to_numpy(dtype=object)
        if type_col in candidates.columns
        else np.full(n, "", dtype=object)
    )
    table = dict(defaults or {})
    default_of = {
        "one_off": np.array([table[t].one_off if t in table else np.nan for t in types], dtype=float),
        "yearly": np.array([table[t].yearly if t in table else np.nan for t in types], dtype=float),
        "posts": np.array([table[t].posts if t in table else np.nan for t in types], dtype=float),
    }

    def column(col: str | None) -> FloatArray:
        if col is None or col not in candidates.columns:
            return np.full(n, np.nan)
        raw = candidates[col]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = (raw.notna().to_numpy() & np.isnan(values)) | (values < 0)
        if bad.any():
            rows = (np.flatnonzero(bad) + 1).tolist()[:10]
            problems.append(
                Problem(
                    f"{int(bad.sum())} Wert(e) sind keine Zahl ≥ 0 (Zeilen {rows}).",
                    "Kosten in Euro als Zahl eintragen.",
                    file="Kandidaten",
                    column=col,
                )
            )
        return values

    yearly_own, one_off_own, posts_own = column(yearly_col), column(one_off_col), column(posts_col)
    yearly = np.where(np.isfinite(yearly_own), yearly_own, default_of["yearly"])
    missing = ~np.isfinite(yearly)
    if missing.any():
        rows = (np.flatnonzero(missing) + 1).tolist()[:10]
        kinds = sorted({str(t) for t in types[missing]})[:5]
        problems.append(
            Problem(
                f"{int(missing.sum())} Kandidat(en) ohne jährliche Kosten und ohne Vorgabe für ihren Typ "
                f"({', '.join(kinds) or 'ohne Typ'}; Zeilen {rows}).",
                f"Kosten in der Spalte »{yearly_col}« eintragen oder eine Vorgabe je Standorttyp angeben.",
                file="Kandidaten",
                column=yearly_col,
            )
        )
    raise_if_problems(problems, "Kosten der Standorte sind unvollständig")
    one_off_default = np.where(np.isfinite(default_of["one_off"]), default_of["one_off"], 0.0)
    one_off = np.where(np.isfinite(one_off_own), one_off_own, one_off_default)
    posts_default = np.where(np.isfinite(default_of["posts"]), default_of["posts"], 1.0)
    posts = np.where(np.isfinite(posts_own), posts_own, posts_default)
    origin = tuple(
        f"Spalte »{yearly_col}«" if np.isfinite(own) else f"Vorgabe für {t}"
        for own, t in zip(yearly_own, types, strict=True)
    )
    return SiteCosts(one_off, yearly, posts, origin)


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class CostSummary:
    """Costs and cost-effectiveness of the new sites of a plan.

    Attributes
    ----------
    sites
        Candidate indices of the new sites (fixed ones excluded: their cost is
        not a decision).
    one_off_total, yearly_total
        Euros of the new sites.
    land_yearly, municipal_yearly
        The Land's and the municipal yearly share (the programme's rule).
    newly_reached, newly_reached_target
        People (and target-group people) the plan reaches that the fixed
        sites do not.
    eur_per_newly_reached, eur_per_newly_reached_target
        ``yearly_total / newly_reached`` (NaN when nobody is newly reached).
    municipal_eur_per_newly_reached
        ``municipal_yearly / newly_reached``.
    programme
        Id of the programme (``None``: municipality pays all).
    per_site
        Per new site: ``candidate_index``, ``one_off``, ``yearly``, ``land``,
        ``municipal``, ``gain`` (people newly reached at its step, in
        ``order``) and ``eur_per_gain``.
    notes
        German notes.
    """

    sites: tuple[int, ...]
    one_off_total: float
    yearly_total: float
    land_yearly: float
    municipal_yearly: float
    newly_reached: float
    newly_reached_target: float | None
    eur_per_newly_reached: float
    eur_per_newly_reached_target: float | None
    municipal_eur_per_newly_reached: float
    programme: str | None
    per_site: pd.DataFrame = field(compare=False)
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN as ``None``)."""

        def num(x: float | None) -> float | None:
            return None if x is None or not np.isfinite(x) else float(x)

        return {
            "sites": list(self.sites),
            "one_off_total": self.one_off_total,
            "yearly_total": self.yearly_total,
            "land_yearly": self.land_yearly,
            "municipal_yearly": self.municipal_yearly,
            "newly_reached": self.newly_reached,
            "newly_reached_target": num(self.newly_reached_target),
            "eur_per_newly_reached": num(self.eur_per_newly_reached),
            "eur_per_newly_reached_target": num(self.eur_per_newly_reached_target),
            "municipal_eur_per_newly_reached": num(self.municipal_eur_per_newly_reached),
            "programme": self.programme,
            "per_site": [
                {k: (num(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.per_site.to_dict(orient="records")
            ],
            "notes": list(self.notes),
        }


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def cost_summary(
    order: ArrayLike,
    costs: SiteCosts,
    coverage: Any,
    weights: ArrayLike,
    *,
    fixed: ArrayLike | None = None,
    target_weights: ArrayLike | None = None,
    programme: FundingProgramme | None = None,
) -> CostSummary:
    """Total costs, shares and euros per newly reached person of the new sites of a plan.

    Parameters
    ----------
    order
        Candidate indices of the plan's sites (fixed ones may be included; the
        order of the new ones is the order of ``per_site``, e.g. the
        explanation's greedy order).
    costs
        :class:`SiteCosts` of all candidates.
    coverage
        Boolean ``n_demand × n_candidates`` coverage (dense or sparse; see
        :func:`planning.explain.within_radius`).
    weights
        Demand weight (persons) per row.
    fixed
        Indices of the existing (fixed) sites; their coverage is the baseline.
    target_weights
        Target-group persons per row (e.g. children under 6), optional.
    programme
        The programme paying part of the yearly cost (``None``: the
        municipality pays all).

    Returns
    -------
    CostSummary

    Examples
    --------
    Two new sites, 30,000 € and 20,000 € a year; 100 people were covered by
    the existing site, the plan adds 250 more: 50,000 / 250 = 200 € per
    newly reached person.

    >>> import numpy as np
    >>> cov = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]], dtype=bool)
    >>> c = SiteCosts(np.zeros(3), np.array([0.0, 30_000, 20_000]), np.ones(3), ("", "", ""))
    >>> s = cost_summary([0, 1, 2], c, cov, [100, 150, 60, 40], fixed=[0])
    >>> s.yearly_total, s.newly_reached, s.eur_per_newly_reached
    (50000.0, 250.0, 200.0)
    """
    a = sp.csc_array(coverage if sp.issparse(coverage) else np.asarray(coverage, dtype=bool), dtype=float)
    w = np.asarray(weights, dtype=float).ravel()
    tw = None if target_weights is None else np.asarray(target_weights, dtype=float).ravel()
    problems = []
    if w.size != a.shape[0] or (tw is not None and tw.size != a.shape[0]):
        problems.append(
            Problem(
                f"{a.shape[0]} Matrixzeilen, aber {w.size} Gewichte (Zielgruppe: {None if tw is None else tw.size})."
            )
        )
    if costs.yearly.size != a.shape[1]:
        problems.append(Problem(f"{a.shape[1]} Kandidaten, aber Kosten für {costs.yearly.size}."))
    raise_if_problems(problems, "Kostenübersicht nicht möglich")
    fixed_idx = np.unique(np.asarray([] if fixed is None else fixed, dtype=np.int64))
    new = [int(j) for j in dict.fromkeys(np.asarray(order, dtype=np.int64).tolist()) if j not in set(fixed_idx)]
    covered = (a[:, fixed_idx] @ np.ones(fixed_idx.size)) > 0 if fixed_idx.size else np.zeros(a.shape[0], bool)
    base = covered.copy()
    gains = []
    for j in new:  # one step per new site (p is small)
        col = a[:, [j]].toarray().ravel() > 0
        gains.append(float(w[col & ~covered].sum()))
        covered |= col
    newly = float(w[covered & ~base].sum())
    newly_t = None if tw is None else float(tw[covered & ~base].sum())
    idx = np.array(new, dtype=np.int64)
    split = (
        programme.split(costs.yearly[idx], costs.posts[idx])
        if programme is not None
        else CostSplit(None, np.zeros(idx.size), costs.yearly[idx].copy())
    )
    yearly_total = float(costs.yearly[idx].sum())
    per_site = pd.DataFrame(
        {
            "candidate_index": idx,
            "one_off": costs.one_off[idx],
            "yearly": costs.yearly[idx],
            "land": split.land,
            "municipal": split.municipal,
            "gain": np.array(gains, dtype=float),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        per_site["eur_per_gain"] = np.where(per_site["gain"] > 0, per_site["yearly"] / per_site["gain"], np.nan)
    notes = list(split.notes)
    if newly <= 0:
        notes.append("Der Plan erreicht niemanden neu: Euro je neu erreichter Person sind nicht bestimmt.")
    return CostSummary(
        sites=tuple(new),
        one_off_total=float(costs.one_off[idx].sum()),
        yearly_total=yearly_total,
        land_yearly=split.land_total,
        municipal_yearly=split.municipal_total,
        newly_reached=newly,
        newly_reached_target=newly_t,
        eur_per_newly_reached=_ratio(yearly_total, newly),
        eur_per_newly_reached_target=None if newly_t is None else _ratio(yearly_total, newly_t),
        municipal_eur_per_newly_reached=_ratio(split.municipal_total, newly),
        programme=None if programme is None else programme.id,
        per_site=per_site,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- cost bases


@dataclass(frozen=True)
class CostBasis:
    """Which cost a budget counts: yearly, one-off, or yearly with the one-off spread over years.

    Parameters
    ----------
    id, label, label_en
        Identifier and names.
    one_off_weight
        How much of the one-off cost counts (0, 1, or ``1 / years``).
    yearly_weight
        How much of the yearly cost counts (0 or 1).
    """

    id: str
    label: str
    label_en: str
    one_off_weight: float
    yearly_weight: float

    def of(self, costs: SiteCosts) -> FloatArray:
        """The cost of each candidate on this basis.

        >>> c = SiteCosts(np.array([10_000.0]), np.array([3_000.0]), np.ones(1), ("",))
        >>> YEARLY.of(c).tolist(), ONE_OFF.of(c).tolist(), annualised(5).of(c).tolist()
        ([3000.0], [10000.0], [5000.0])
        """
        return np.asarray(self.one_off_weight * costs.one_off + self.yearly_weight * costs.yearly)


YEARLY = CostBasis("yearly", "Jährliche Kosten", "Yearly cost", 0.0, 1.0)
ONE_OFF = CostBasis("one_off", "Einmalige Kosten", "One-off cost", 1.0, 0.0)


def annualised(years: float) -> CostBasis:
    """Yearly cost plus the one-off cost spread evenly over ``years`` (no interest)."""
    if not years > 0:
        raise DataError(f"Die Laufzeit muss positiv sein, nicht {years}.")
    return CostBasis(
        f"annualised_{years:g}",
        f"Jährliche Kosten mit Einmalkosten über {de_number(years, 0)} Jahre verteilt",
        f"Yearly cost with the one-off cost spread over {years:g} years",
        1.0 / years,
        1.0,
    )


#: The bases a budget can count, by id (``annualised`` takes the years: :func:`cost_basis`).
COST_BASES: tuple[str, ...] = ("yearly", "one_off", "annualised")


def cost_basis(basis_id: str, years: float = 10.0) -> CostBasis:
    """The :class:`CostBasis` of an id of :data:`COST_BASES`.

    >>> cost_basis("annualised", 4).label
    'Jährliche Kosten mit Einmalkosten über 4 Jahre verteilt'
    """
    if basis_id == "yearly":
        return YEARLY
    if basis_id == "one_off":
        return ONE_OFF
    if basis_id == "annualised":
        return annualised(years)
    raise DataError(f"Kostenbasis »{basis_id}« unbekannt: erlaubt sind {', '.join(COST_BASES)}.")
