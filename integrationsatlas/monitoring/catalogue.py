"""What the monitoring measures: reaches, the indicator series of a level, and the indicator kinds, each declared once.

An :class:`IndicatorSeries` is the monitoring question of one level ("the
Stadtteile of Köln: Kitas within 500 m straight line and 10 minutes on
foot"): it turns into one :class:`~integrationsatlas.request.AnalysisRequest`
per facility layer and :class:`Reach`, so every coverage figure of the
indicator table is the figure the pipeline gives for the same question. The
:data:`KINDS` declare every indicator once, with the definition, unit and
interpretation the exports for KomMonitor and the Integrationsmonitoring carry.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from geo.errors import DataError
from geo.formatting import de_number
from geo.layers.registry import REGISTRY
from geo.modes import MODES
from integrationsatlas.request import AnalysisRequest, AreaRef, Unit

_REACH = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km|min)\s*(?::\s*([a-z]+))?\s*$")


@dataclass(frozen=True)
class Reach:
    """A threshold of the monitoring: straight-line kilometres, or door-to-door minutes by a mode.

    Parameters
    ----------
    unit
        ``km`` or ``min``.
    threshold
        The threshold in ``unit``.
    mode
        Travel mode of a ``min`` reach (default ``walk``); ``None`` for ``km``.
    """

    unit: Unit
    threshold: float
    mode: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", float(self.threshold))
        object.__setattr__(self, "mode", None if self.unit == "km" else (self.mode or "walk"))

    @classmethod
    def parse(cls, text: str) -> Reach:
        """``0.5km``, ``10min`` or ``10min:bike`` as a reach.

        >>> Reach.parse("0,5km"), Reach.parse("10min:bike").slug
        (Reach(unit='km', threshold=0.5, mode=None), 'bike10min')

        Raises
        ------
        DataError
            If the text is not of that form or names an unknown mode.
        """
        match = _REACH.match(text)
        if match is None or (match.group(3) and match.group(3) not in MODES):
            raise DataError(
                f"Reichweite »{text}« bitte als Zahl mit km oder min angeben, z. B. 0.5km, 10min oder "
                f"10min:bike (Verkehrsmittel: {', '.join(MODES)})."
            )
        return cls(match.group(2), float(match.group(1).replace(",", ".")), match.group(3))  # type: ignore[arg-type]

    @property
    def slug(self) -> str:
        """Short stable id, e.g. ``km0.5`` or ``walk10min``."""
        return f"km{self.threshold:g}" if self.unit == "km" else f"{self.mode}{self.threshold:g}min"

    @property
    def label(self) -> str:
        """German label, e.g. ``0,5 km Luftlinie`` or ``10 Minuten zu Fuß``."""
        return self.request("ki").threshold_label

    def request(self, layer: str, **fields: Any) -> AnalysisRequest:
        """The pipeline's request of this reach for ``layer``."""
        return AnalysisRequest(layer, self.threshold, unit=self.unit, mode=self.mode, **fields)


@dataclass(frozen=True)
class IndicatorSeries:
    """The monitoring question of one level, computed again for every new date.

    Parameters
    ----------
    by
        The level: an administrative level or a stored area set (:func:`geo.levels.analysis_level`).
    area
        The area whose units are tabulated (an AGS, or an area set:
        ``AreaRef("", set=by)`` for all its areas).
    layers
        Facility layers counted and whose coverage is measured.
    reaches
        Thresholds of the coverage figures.
    target_group, demand, osm_file, gtfs_file
        As in :class:`~integrationsatlas.request.AnalysisRequest` (the OSM
        extract is needed by ``min`` reaches and by the 100 m demand estimate).
    """

    by: str
    area: AreaRef
    layers: tuple[str, ...]
    reaches: tuple[Reach, ...] = field(default=(Reach("km", 1.0),))
    target_group: str = "total"
    demand: str = "auto"
    osm_file: str | None = None
    gtfs_file: str | None = None

    def __post_init__(self) -> None:
        # one question, one series: the same layers and reaches in another order are the same series
        object.__setattr__(self, "layers", tuple(sorted(set(self.layers))))
        order = sorted(set(self.reaches), key=lambda r: (r.unit, str(r.mode or ""), r.threshold))
        object.__setattr__(self, "reaches", tuple(order))

    def requests(self) -> tuple[AnalysisRequest, ...]:
        """One validated request per layer and reach (layers outer)."""
        return tuple(
            reach.request(
                layer,
                area=self.area,
                by=self.by,
                target_group=self.target_group,
                demand=self.demand,
                osm_file=self.osm_file,
                gtfs_file=self.gtfs_file,
            ).validate()
            for layer in self.layers
            for reach in self.reaches
        )

    def check(self) -> IndicatorSeries:
        """Validate the series (layers, reaches, area); returns ``self``.

        Raises
        ------
        DataError
            With every problem.
        """
        if not self.layers:
            raise DataError("Bitte mindestens eine Einrichtungsebene für die Kennzahlen angeben (--layer).")
        if not self.reaches:
            raise DataError("Bitte mindestens eine Reichweite angeben (--reach 1km oder 10min).")
        self.requests()
        return self

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form (stored with every snapshot, so a later import recomputes the same series)."""
        data = asdict(self)
        data["layers"] = list(self.layers)
        data["reaches"] = [asdict(r) for r in self.reaches]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndicatorSeries:
        """Rebuild a series from :meth:`as_dict`.

        Raises
        ------
        DataError
            If the dict is not a series.
        """
        try:
            return cls(
                by=str(data["by"]),
                area=AreaRef(**data["area"]),
                layers=tuple(data["layers"]),
                reaches=tuple(Reach(**r) for r in data["reaches"]),
                target_group=str(data.get("target_group", "total")),
                demand=str(data.get("demand", "auto")),
                osm_file=data.get("osm_file"),
                gtfs_file=data.get("gtfs_file"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"Gespeicherte Kennzahlen-Reihe unlesbar ({exc}).") from exc

    @property
    def key(self) -> str:
        """Stable hash of the series (12 hex digits).

        >>> IndicatorSeries("kreis", AreaRef(), ("ki",)).key == IndicatorSeries("kreis", AreaRef("05"), ("ki",)).key
        True
        """
        text = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]

    def describe(self) -> str:
        """The series in one German line."""
        layers = ", ".join(REGISTRY.get(lid).title if lid in REGISTRY else lid for lid in self.layers)
        reaches = ", ".join(r.label for r in self.reaches)
        return f"{layers}; Reichweiten: {reaches}; Einheiten: {self.by}; Gebiet: {self.area}"


@dataclass(frozen=True)
class IndicatorKind:
    """One kind of indicator, declared once with what every export says about it.

    Parameters
    ----------
    id
        Stable key (``share_covered`` …).
    title
        German title; ``{layer}`` and ``{reach}`` are filled in per indicator.
    unit
        Unit of the values.
    decimals
        Decimals shown and exported.
    definition
        How the value is computed, in German (the export's definition).
    interpretation
        How to read it, in German (KomMonitor's ``interpretation``).
    kommonitor_type
        KomMonitor's ``IndicatorTypeEnum``.
    per_layer, per_reach
        Whether there is one indicator per facility layer, and per reach.
    needs
        Which resolution rule of :func:`planning.resolution.unit_resolution`
        a unit's value must pass: ``total``, ``share`` or ``none``.
    """

    id: str
    title: str
    unit: str
    decimals: int
    definition: str
    interpretation: str
    kommonitor_type: str
    per_layer: bool = False
    per_reach: bool = False
    needs: str = "none"

    def indicator_id(self, layer: str | None = None, reach: Reach | None = None) -> str:
        """The id of one indicator of this kind, e.g. ``share_covered.kita.km0.5``."""
        return ".".join([self.id, *([layer] if self.per_layer and layer else []), *([reach.slug] if reach else [])])

    def indicator_title(self, layer: str | None = None, reach: Reach | None = None, group: str = "") -> str:
        """The German title of one indicator, e.g. ``Versorgungsanteil Kitas, 0,5 km Luftlinie``."""
        title = REGISTRY.get(layer).title if layer is not None and layer in REGISTRY else (layer or "")
        return self.title.format(layer=title, reach=reach.label if reach else "", group=group)


KINDS: dict[str, IndicatorKind] = {
    k.id: k
    for k in (
        IndicatorKind(
            "population",
            "Einwohner",
            "Personen",
            0,
            "Einwohner des Gebiets: Summe der Nachfragepunkte im Gebiet (Punkt-in-Gebiet-Regel).",
            "Größe des Gebiets; Bezugsgröße der übrigen Kennzahlen.",
            "STATUS_ABSOLUTE",
            needs="total",
        ),
        IndicatorKind(
            "target_group",
            "Zielgruppe: {group}",
            "Personen",
            0,
            "Personen der Zielgruppe im Gebiet: Summe des Zielgruppengewichts der Nachfragepunkte im Gebiet.",
            "Umfang des Bedarfs im Gebiet.",
            "STATUS_ABSOLUTE",
            needs="total",
        ),
        IndicatorKind(
            "facilities",
            "Anzahl {layer}",
            "Anzahl",
            0,
            "Einrichtungen der Ebene, deren Punkt im Gebiet liegt (Punkt-in-Gebiet-Regel; auf einer gemeinsamen "
            "Grenze zählt das Gebiet mit dem kleinsten Schlüssel).",
            "Mehr ist ein größeres Angebot im Gebiet selbst; Einrichtungen jenseits der Grenze zählen nicht.",
            "STATUS_ABSOLUTE",
            per_layer=True,
        ),
        IndicatorKind(
            "facilities_per_10k",
            "{layer} je 10.000 Einwohner",
            "je 10.000 Einwohner",
            2,
            "Einrichtungen im Gebiet geteilt durch die Einwohner des Gebiets, mal 10.000.",
            "Höher ist ein dichteres Angebot im Verhältnis zur Bevölkerung.",
            "STATUS_RELATIVE",
            per_layer=True,
            needs="total",
        ),
        IndicatorKind(
            "share_covered",
            "Versorgungsanteil {layer}, {reach}",
            "%",
            1,
            "Anteil der Zielgruppe des Gebiets, deren nächste Einrichtung der Ebene höchstens die Schwelle "
            "entfernt ist (Luftlinie oder Fahrzeit von Tür zu Tür).",
            "Höher ist besser; 100 % heißt: alle erreichen eine Einrichtung innerhalb der Schwelle.",
            "STATUS_RELATIVE",
            per_layer=True,
            per_reach=True,
            needs="share",
        ),
        IndicatorKind(
            "area_covered",
            "Flächenanteil in Reichweite {layer}, {reach}",
            "%",
            1,
            "Anteil der Fläche des Gebiets (Mittelpunkte eines regelmäßigen Rasters), von der aus die nächste "
            "Einrichtung höchstens die Schwelle entfernt ist; ohne Bevölkerung gerechnet.",
            "Höher ist besser; beschreibt die Lage der Einrichtungen, nicht, wie viele Menschen sie erreichen.",
            "STATUS_RELATIVE",
            per_layer=True,
            per_reach=True,
        ),
        IndicatorKind(
            "access_ratio",
            "2SFCA-Versorgungsquote {layer}, {reach}",
            "Angebot je 10.000 Personen der Zielgruppe",
            2,
            "Two-Step Floating Catchment Area: Angebot jeder Einrichtung (Plätze, sonst 1) geteilt durch die "
            "Nachfrage in ihrem Einzugsbereich (Schwelle), je Nachfragepunkt aufsummiert, im Gebiet nach der "
            "Zielgruppe gewichtet gemittelt, mal 10.000.",
            "Höher ist besser; berücksichtigt, dass sich viele Menschen eine Einrichtung teilen.",
            "STATUS_RELATIVE",
            per_layer=True,
            per_reach=True,
            needs="share",
        ),
        IndicatorKind(
            "gap_score",
            "Lückenwert {layer}, {reach}",
            "Index 0–1",
            3,
            "Mittel aus vier auf 0–1 skalierten Teilen (Zielgruppe jenseits der Schwelle, unversorgter Anteil, "
            "90.-Perzentil der Entfernung/Zeit, Kehrwert der 2SFCA-Quote), skaliert über die Gebiete der Tabelle.",
            "Höher ist eine größere Versorgungslücke; nur innerhalb derselben Tabelle vergleichbar.",
            "STATUS_STANDARDIZED",
            per_layer=True,
            per_reach=True,
            needs="share",
        ),
    )
}


def kind_of(indicator_id: str) -> IndicatorKind:
    """The kind of an indicator id (``share_covered.kita.km0.5`` → ``share_covered``).

    Raises
    ------
    DataError
        For an unknown kind.
    """
    kind = indicator_id.split(".", 1)[0]
    if kind not in KINDS:
        raise DataError(f"Unbekannte Kennzahl »{indicator_id}«: Arten sind {', '.join(KINDS)}.")
    return KINDS[kind]


def format_value(indicator_id: str, value: object) -> str:
    """A value in German with the decimals of its kind (``–`` when missing).

    >>> format_value("share_covered.kita.km0.5", 87.25), format_value("population", 1234.0)
    ('87,2', '1.234')
    """
    return de_number(value, kind_of(indicator_id).decimals)
