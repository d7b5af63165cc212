"""A batch plan: many planning questions written as a small TOML file, expanded into requests.

A plan names the dimensions of a batch – areas × layers × modes × thresholds
× scenarios – and the request fields they share. :func:`read_plan` checks
every entry (all problems reported at once, in German, with the file and the
key) and :meth:`BatchPlan.tasks` expands the product into
:class:`~integrationsatlas.request.AnalysisRequest` objects: each task is one
request, answered by the one pipeline, keyed by :attr:`AnalysisRequest.key`.

Example (``examples/batch_kreise.toml``)::

    [plan]
    name = "KI und OGS je Kreis"
    areas = "kreise"                # or "land", "regierungsbezirke", "gemeinden", or a list of AGS
    layers = ["ki", "ogs"]
    modes = ["luftlinie"]           # or walk, bike, drive, oepnv (needs osm; oepnv also gtfs)
    thresholds = [5, 10]            # km for luftlinie, minutes for the travel modes
    by = "gemeinde"

    [scenarios.gesamt]              # optional: named variants of the shared request fields
    [scenarios.auslaender]
    target_group = "foreign"

    [[data]]                        # optional: data imported into the batch's own store first
    layer = "ogs"
    file = "../../shared/data/facilities/nrw_schuldaten_msb_2021.csv"
    [[data]]                        # also: population = "<Destatis Gemeinde table>", zensus = "<grid zip>"
    zensus = "Zensus2022_Bevoelkerungszahl_100m-Gitter.zip"

Paths in a plan are relative to the plan file.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from geo.errors import DataError
from geo.modes import MODES
from geo.settings import Settings
from integrationsatlas.cli._request import parse_window
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec, _siting_from_dict

#: The straight-line "mode" of a plan: thresholds in km, no network.
STRAIGHT_LINE = "luftlinie"
#: Named area sets of a plan and the administrative level they list.
AREA_SETS: dict[str, str] = {
    "land": "land",
    "regierungsbezirke": "regbez",
    "kreise": "kreis",
    "gemeinden": "gemeinde",
}
#: Request fields a plan or a scenario may set (besides the dimensions).
SHARED_FIELDS: frozenset[str] = frozenset(
    {"by", "target_group", "target_column", "demand", "osm", "gtfs", "day", "window", "siting"}
)
_PLAN_KEYS = SHARED_FIELDS | {"name", "areas", "layers", "modes", "thresholds"}
_DEFAULT_SCENARIO = "basis"


@dataclass(frozen=True)
class DataImport:
    """A file imported into the batch's own store before the tasks run.

    ``kind`` says what the file is: ``layer`` (facilities for the layer
    ``layer``, :func:`geo.importing.import_file`), ``population`` (a Destatis
    Gemeinde table) or ``zensus`` (a Zensus 2022 grid, the 100 m demand).
    """

    file: Path
    kind: Literal["layer", "population", "zensus"]
    layer: str | None = None

    @property
    def target(self) -> str:
        """The store table the import fills (a rerun keeps it when it is filled already)."""
        from geo.sources.destatis import POPULATION_TABLE
        from geo.sources.zensus import ZENSUS_LAYER

        if self.kind == "population":
            return POPULATION_TABLE
        if self.kind == "zensus":
            return ZENSUS_LAYER
        assert self.layer is not None
        return self.layer

    def apply(self, settings: Settings) -> None:
        """Import the file into ``settings``' store unless its table is filled already."""
        from geo.importing import import_file
        from geo.sources.destatis import import_gemeinde_population
        from geo.sources.zensus import import_zensus
        from geo.store import has_layer

        if has_layer(settings, self.target):
            return
        if self.kind == "population":
            import_gemeinde_population(self.file, settings)
        elif self.kind == "zensus":
            import_zensus(self.file, settings)
        else:
            import_file(self.file, self.target, settings, mode="replace", on_invalid="keep_valid")


@dataclass(frozen=True)
class Task:
    """One task of a batch: a scenario's request."""

    scenario: str
    request: AnalysisRequest

    @property
    def key(self) -> str:
        """The request's key: a rerun skips a task whose result exists."""
        return self.request.key


@dataclass(frozen=True)
class BatchPlan:
    """A parsed plan.

    Attributes
    ----------
    name
        Title of the batch.
    path
        The plan file.
    areas, layers, modes, thresholds
        The dimensions (areas as AGS, modes incl. :data:`STRAIGHT_LINE`).
    shared
        Request fields shared by every task.
    scenarios
        Named request fields per scenario (in file order; one unnamed
        scenario ``basis`` when the plan has none).
    data
        Imports into the batch's own store (none: the user's store is used).
    """

    name: str
    path: Path
    areas: tuple[str, ...]
    layers: tuple[str, ...]
    modes: tuple[str, ...]
    thresholds: tuple[float, ...]
    shared: dict[str, Any] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: tuple[DataImport, ...] = ()

    def tasks(self) -> list[Task]:
        """The product of the dimensions as validated requests (duplicates, by key, once).

        Raises
        ------
        DataError
            Listing every invalid combination (e.g. a travel mode without an OSM file).
        """
        out: dict[str, Task] = {}
        problems: list[str] = []
        scenarios = self.scenarios or {_DEFAULT_SCENARIO: {}}
        for scenario, extra in scenarios.items():
            fields_ = {**self.shared, **extra}
            for area, layer, mode, threshold in itertools.product(self.areas, self.layers, self.modes, self.thresholds):
                try:
                    request = _request(area, layer, mode, threshold, fields_).validate()
                except DataError as exc:
                    detail = str(exc).replace("Ungültige Anfrage:\n- ", "").replace("\n- ", "; ")
                    problems.append(f"Szenario »{scenario}«, {area} × {layer} × {mode} × {threshold:g}: {detail}")
                    continue
                out.setdefault(request.key, Task(scenario, request))
        if problems:
            shown = problems[:10] + ([f"… und {len(problems) - 10} weitere"] if len(problems) > 10 else [])
            raise DataError(f"Plan {self.path.name}: ungültige Aufgaben:\n- " + "\n- ".join(shown))
        return list(out.values())


def read_plan(path: Path, settings: Settings) -> BatchPlan:
    """Read and check a TOML batch plan.

    Parameters
    ----------
    path
        The plan file.
    settings
        Where the boundaries are (to list the Kreise, Gemeinden … of an area set).

    Returns
    -------
    BatchPlan

    Raises
    ------
    DataError
        If the file is missing or no TOML, or any entry is invalid; every
        problem is listed with its key and the fix.
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"Plan {path} kann nicht gelesen werden ({exc.strerror or exc}).") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"Plan {path.name} ist keine gültige TOML-Datei: {exc}.") from exc
    problems: list[str] = []
    plan = doc.get("plan")
    if not isinstance(plan, dict):
        raise DataError(f"Plan {path.name}: der Abschnitt [plan] fehlt (mit areas, layers, modes, thresholds).")
    unknown = sorted(set(plan) - _PLAN_KEYS)
    if unknown:
        problems.append(f"[plan]: unbekannte Einträge {', '.join(unknown)} (erlaubt: {', '.join(sorted(_PLAN_KEYS))})")
    areas = _areas(plan.get("areas"), settings, problems)
    layers = _strings(plan.get("layers"), "layers", problems)
    modes = _strings(plan.get("modes", [STRAIGHT_LINE]), "modes", problems)
    for mode in modes:
        if mode != STRAIGHT_LINE and mode not in MODES:
            problems.append(f"[plan] modes: »{mode}« unbekannt (erlaubt: {STRAIGHT_LINE}, {', '.join(MODES)})")
    thresholds = _numbers(plan.get("thresholds"), "thresholds", problems)
    shared = _fields(plan, path, "[plan]", problems)
    scenarios: dict[str, dict[str, Any]] = {}
    for name, table in (doc.get("scenarios") or {}).items():
        if not isinstance(table, dict):
            problems.append(f"[scenarios.{name}] muss eine Tabelle sein")
            continue
        bad = sorted(set(table) - SHARED_FIELDS)
        if bad:
            allowed = ", ".join(sorted(SHARED_FIELDS))
            problems.append(f"[scenarios.{name}]: unbekannte Einträge {', '.join(bad)} (erlaubt: {allowed})")
        scenarios[str(name)] = _fields(table, path, f"[scenarios.{name}]", problems)
    data = tuple(_data(entry, path, k, problems) for k, entry in enumerate(doc.get("data") or []))
    extra = sorted(set(doc) - {"plan", "scenarios", "data"})
    if extra:
        problems.append(f"unbekannte Abschnitte {', '.join(extra)} (erlaubt: plan, scenarios, data)")
    if problems:
        raise DataError(f"Plan {path.name} ist ungültig:\n- " + "\n- ".join(problems))
    return BatchPlan(
        name=str(plan.get("name") or path.stem),
        path=path,
        areas=areas,
        layers=layers,
        modes=modes,
        thresholds=thresholds,
        shared=shared,
        scenarios=scenarios,
        data=tuple(d for d in data if d is not None),
    )


def _request(area: str, layer: str, mode: str, threshold: float, values: dict[str, Any]) -> AnalysisRequest:
    travel = mode != STRAIGHT_LINE
    group = values.get("target_group", "total")
    return AnalysisRequest(
        layer=layer,
        threshold=threshold,
        unit="min" if travel else "km",
        mode=mode if travel else None,
        area=AreaRef(area),
        by=values.get("by", "kreis"),
        target_group=group,
        target_column=values.get("target_column"),
        demand=values.get("demand", "auto"),
        osm_file=values.get("osm"),
        gtfs_file=values.get("gtfs"),
        day=values.get("day"),
        window=values.get("window", (7 * 3600, 9 * 3600)),
        siting=values.get("siting"),
    )


def _areas(value: Any, settings: Settings, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str) and value in AREA_SETS:
        if AREA_SETS[value] == "land":
            return ("05",)
        from geo.units import load_boundaries

        try:
            return tuple(load_boundaries(AREA_SETS[value], settings)["ags"].astype(str))  # type: ignore[arg-type]
        except DataError as exc:
            problems.append(f"[plan] areas = »{value}«: {exc}")
            return ()
    codes = _strings(value if not isinstance(value, str) else [value], "areas", problems)
    return codes


def _strings(value: Any, key: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        problems.append(f'[plan] {key}: bitte eine Liste von Namen angeben, z. B. {key} = ["…"]')
        return ()
    return tuple(dict.fromkeys(value))


def _numbers(value: Any, key: str, problems: list[str]) -> tuple[float, ...]:
    numbers = isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    if not numbers or not value or not all(v > 0 for v in value):
        problems.append(f"[plan] {key}: bitte eine Liste von Zahlen > 0 angeben, z. B. {key} = [5, 10]")
        return ()
    return tuple(dict.fromkeys(float(v) for v in value))


def _fields(table: dict[str, Any], plan: Path, where: str, problems: list[str]) -> dict[str, Any]:
    """The shared request fields of a table, with paths resolved against the plan file."""
    out: dict[str, Any] = {}
    for key in SHARED_FIELDS & set(table):
        value = table[key]
        if key in ("osm", "gtfs"):
            out[key] = str((plan.parent / str(value)).resolve())
        elif key == "window":
            try:
                out[key] = parse_window(str(value))
            except DataError as exc:
                problems.append(f"{where} window: {exc}")
        elif key == "day":
            out[key] = str(value)
        elif key == "siting":
            try:
                out[key] = _siting(value)
            except (DataError, TypeError, ValueError) as exc:
                problems.append(f"{where} siting: {exc}")
        elif not isinstance(value, str):
            problems.append(f"{where} {key}: bitte als Text angeben")
        else:
            out[key] = value
    return out


def _siting(value: Any) -> SitingSpec:
    if not isinstance(value, dict):
        raise DataError('bitte als Tabelle angeben, z. B. siting = { model = "mclp", p = 3 }')
    known = {f.name for f in fields(SitingSpec)}
    bad = sorted(set(value) - known)
    if bad:
        raise DataError(f"unbekannte Einträge {', '.join(bad)}")
    return _siting_from_dict(value)


def _data(entry: Any, plan: Path, k: int, problems: list[str]) -> DataImport | None:
    where = f"[[data]] Nr. {k + 1}"
    if not isinstance(entry, dict):
        problems.append(f"{where} muss eine Tabelle sein")
        return None
    if "population" in entry:
        result = DataImport((plan.parent / str(entry["population"])).resolve(), "population")
    elif "zensus" in entry:
        result = DataImport((plan.parent / str(entry["zensus"])).resolve(), "zensus")
    elif "layer" in entry and "file" in entry:
        result = DataImport((plan.parent / str(entry["file"])).resolve(), "layer", str(entry["layer"]))
    else:
        problems.append(f'{where}: bitte layer = "…" und file = "…", population = "…" oder zensus = "…" angeben')
        return None
    if not result.file.is_file():
        problems.append(f"{where}: Datei {result.file} nicht gefunden")
    return result
