"""The declaration of a layer: one frozen object that everything else reads.

This follows the pattern of ``geopandas/_config.py`` ``Option(...)``: the map,
the legend, the importer, the exporters, the CLI and the analyses all read a
:class:`LayerSpec` and never hard-code a layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["str", "int", "float", "bool", "tristate", "date"]
GeometryKind = Literal["point", "polygon"]
LayerGroup = Literal["boundary", "facility", "demand", "poi"]
BoundaryLevel = Literal["land", "regbez", "kreis", "gemeinde", "stadtteil"]

_LAYER_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")

#: Values of ``location_precision``: how exact a facility's point is.
PRECISIONS: tuple[str, ...] = ("Adresse", "Koordinate", "PLZ", "Ort")


@dataclass(frozen=True)
class Column:
    """One attribute column of a layer.

    Parameters
    ----------
    name
        Column name in the data store (snake_case, German).
    dtype
        Logical type; ``tristate`` is true/false/unknown (``pd.BooleanDtype``).
    title
        German label for tables, tooltips and import reports.
    required
        Whether an import must provide it.
    aliases
        Other header spellings the importer accepts (compared case-insensitively).
    choices
        Allowed values, if the column is categorical.
    choice_titles
        German labels of ``choices`` (same order), for filters and legends.
    """

    name: str
    dtype: ColumnType
    title: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    choice_titles: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Style:
    """How a layer is drawn: colour (hex), icon name and marker radius in pixels."""

    color: str
    icon: str = "circle"
    radius: int = 6
    fill_opacity: float = 0.85
    weight: float = 1.0


@dataclass(frozen=True)
class Source:
    """Where a layer's data can come from, with its licence.

    ``id`` is used by ``integrationsatlas fetch SOURCE`` for online sources
    and by ``integrationsatlas import --source ID`` to pre-fill the
    provenance of an import; ``kind`` is ``embedded``, ``import``,
    ``official`` or ``osm``; ``publisher`` names who publishes the data.
    """

    id: str
    title: str
    licence: str
    attribution: str
    kind: Literal["embedded", "import", "official", "osm"] = "import"
    url: str | None = None
    as_of: str | None = None
    publisher: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """Everything the application knows about one layer, declared once.

    Parameters
    ----------
    id
        Short stable identifier (``ki``, ``kita``, ``kreis``...).
    title, title_en
        Display names in German and English.
    kind
        Geometry kind.
    group
        ``boundary``, ``facility`` (integration services analysed for coverage),
        ``demand`` or ``poi`` (other public places, used as siting candidates).
    columns
        Attribute schema; facility layers get :data:`FACILITY_COLUMNS` prepended.
    style
        Drawing style.
    tooltip
        Column names shown in map tooltips, in order.
    sources
        Possible sources of the data, with licences.
    embedded
        Path (relative to ``Settings.data_dir``) of a GeoPackage shipped with
        the project, or ``None``.
    level
        For boundary layers: the administrative level.
    capacity_column
        Column holding the supply capacity (places), if any.
    description
        One German sentence for the legend and the data inventory.
    sensitive
        Whether the exact positions are protected (refugee accommodation):
        on a server with login, roles without
        :attr:`~geo.access.Permission.EXACT` get only counts aggregated to
        grid cells with at least *k* points or to the Gemeinde
        (:mod:`geo.privacy`), computed in the database, everywhere (map,
        tooltips, tables, exports, reports, JSON); the single-user tool
        without login is unaffected.
    """

    id: str
    title: str
    title_en: str
    kind: GeometryKind
    group: LayerGroup
    columns: tuple[Column, ...]
    style: Style
    tooltip: tuple[str, ...]
    sources: tuple[Source, ...]
    embedded: str | None = None
    level: BoundaryLevel | None = None
    capacity_column: str | None = None
    description: str = ""
    id_column: str = "id"
    name_column: str = "name"
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    sensitive: bool = False

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError(f"Ebene »{self.id}« ist falsch deklariert: " + "; ".join(problems) + ".")

    def problems(self) -> list[str]:
        """Every inconsistency of the declaration (empty when it is sound), in German.

        A layer validates itself when it is declared: its id, its columns and
        their choices, the tooltip, id, name and capacity columns it refers to,
        its kind and level, its style and its sources.

        >>> facility_layer("x", "X", "X", (), Style("#000000"), ()).problems()
        []
        """
        out: list[str] = []
        if not _LAYER_ID.match(self.id):
            out.append(f"Kennung »{self.id}« muss aus Kleinbuchstaben, Ziffern und _ bestehen")
        if not self.title.strip() or not self.title_en.strip():
            out.append("Titel (deutsch und englisch) fehlen")
        names = [c.name for c in self.columns]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            out.append(f"Spalten doppelt deklariert: {', '.join(doubled)}")
        known = set(names) | {"geometry"}
        for what, column in (("ID", self.id_column), ("Name", self.name_column), ("Kapazität", self.capacity_column)):
            if column is not None and column not in known:
                out.append(f"{what}-Spalte »{column}« ist nicht deklariert")
        missing = [c for c in self.tooltip if c not in known]
        if missing:
            out.append(f"Tooltip nennt nicht deklarierte Spalten: {', '.join(missing)}")
        for c in self.columns:
            if c.choice_titles is not None and (c.choices is None or len(c.choice_titles) != len(c.choices)):
                out.append(f"Spalte »{c.name}«: Titel der Auswahlwerte passen nicht zu den Werten")
        if self.group == "boundary" and (self.kind != "polygon" or self.level is None):
            out.append("eine Grenzebene braucht Flächen und eine Verwaltungsebene")
        if self.group in ("facility", "poi") and self.kind != "point":
            out.append("Einrichtungen und Orte sind Punkte")
        if self.group != "boundary" and self.level is not None:
            out.append("nur Grenzebenen haben eine Verwaltungsebene")
        if not _HEX_COLOUR.match(self.style.color):
            out.append(f"Farbe »{self.style.color}« ist kein Hex-Wert #RRGGBB")
        if self.embedded is not None and not any(s.kind == "embedded" for s in self.sources):
            out.append("eingebettete Daten brauchen eine eingebettete Quelle")
        return out

    @property
    def column_names(self) -> tuple[str, ...]:
        """All declared column names, in order."""
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Names of the columns that an import must provide."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """Return the declared column ``name``.

        Raises
        ------
        KeyError
            If the layer has no such column.
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"Layer {self.id!r} has no column {name!r}")


#: Columns every facility layer has. ``source`` and ``location_precision`` make
#: every record say where it came from and how exact its point is.
FACILITY_COLUMNS: tuple[Column, ...] = (
    Column("id", "str", "ID", required=True, aliases=("kennung", "nr", "nummer", "objectid", "fid")),
    Column("name", "str", "Name", required=True, aliases=("bezeichnung", "einrichtung", "titel", "schulbezeichnung_1")),
    Column("traeger", "str", "Träger", aliases=("träger", "traegerschaft", "trägerschaft", "operator", "betreiber")),
    Column("strasse", "str", "Straße", aliases=("straße", "adresse", "anschrift", "street", "addr:street")),
    Column("plz", "str", "PLZ", aliases=("postleitzahl", "zip", "postcode", "addr:postcode")),
    Column("ort", "str", "Ort", aliases=("stadt", "gemeinde_name", "city", "addr:city")),
    Column("kreis_ags", "str", "Kreis (AGS)"),
    Column("gemeinde_ags", "str", "Gemeinde (AGS)"),
    Column("location_precision", "str", "Lagegenauigkeit", choices=PRECISIONS),
    Column("source", "str", "Quelle"),
    Column("as_of", "str", "Stand"),
)


def facility_layer(
    id: str,
    title: str,
    title_en: str,
    columns: tuple[Column, ...],
    style: Style,
    sources: tuple[Source, ...],
    tooltip: tuple[str, ...] = ("name", "traeger", "ort", "source", "location_precision"),
    group: LayerGroup = "facility",
    **kwargs: object,
) -> LayerSpec:
    """Declare a point facility layer with the common :data:`FACILITY_COLUMNS`.

    >>> spec = facility_layer("test", "Test", "Test", (), Style("#000000"), ())
    >>> spec.required_columns
    ('id', 'name')
    """
    return LayerSpec(
        id=id,
        title=title,
        title_en=title_en,
        kind="point",
        group=group,
        columns=FACILITY_COLUMNS + columns,
        style=style,
        tooltip=tooltip,
        sources=sources,
        **kwargs,  # type: ignore[arg-type]
    )
