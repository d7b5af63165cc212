"""The scenario part of a council report: its sites, before/after table, gain chart and parameters in words.

Every figure of this part is the scenario's own (its request, its threshold),
and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.formatting import MISSING, de_count, de_int, de_points, de_share
from geo.store.scenarios import Scenario
from integrationsatlas.report.maps import gain_chart
from integrationsatlas.report.model import MAX_TABLE_ROWS, ReportMap, ReportTable, cell_text
from planning.siting.models import SITING_MODELS

#: One German sentence per model (from the model registry).
MODEL_TITLES = {m.id: m.title for m in SITING_MODELS.values()}


def scenario_tables(scenario: Scenario, names: Mapping[str, str]) -> list[ReportTable]:
    """The scenario's new sites, and its coverage before and after per Gemeinde (named by ``names``: AGS → name)."""
    new = scenario.selected
    total_gain = float(pd.to_numeric(new["marginal_gain"], errors="coerce").sum())
    rows = tuple(
        (de_int(o), cell_text(n) or cell_text(c), cell_text(s), _gemeinde(g, names), de_int(m))
        for o, n, c, s, g, m in zip(
            new["order"],
            new["name"],
            new["candidate_id"],
            new["source"],
            new["gemeinde_ags"],
            new["marginal_gain"],
            strict=True,
        )
    )
    tables = [
        ReportTable(
            title=f"Vorgeschlagene Standorte (Szenario »{scenario.name}«)",
            columns=("Nr.", "Standort", "Herkunft", "Gemeinde (AGS)", "zusätzlich versorgt"),
            rows=rows,
            numeric=(True, False, False, False, True),
            widths=(8, 54, 22, 40, 26),
            note=f"In Auswahlreihenfolge; zusätzlich versorgt = neu abgedeckte Nachfrage (Personen der Zielgruppe), "
            f"zusammen {de_int(total_gain)}. {len(scenario.fixed_sites)} bestehende Standorte wurden festgehalten.",
        )
    ]
    results = scenario.results
    before_after = [
        (
            "Gesamt",
            scenario.area_name,
            de_share(results.get("share_before")),
            de_share(results.get("share_after")),
            _pp(results.get("share_before"), results.get("share_after")),
        )
    ]
    table = scenario.by_gemeinde
    threshold = results.get("threshold") or "der Schwelle des Szenarios"
    note = (
        f"Versorgungsanteil der Zielgruppe innerhalb von {threshold} (Schwelle des Szenarios), "
        "vor und nach den neuen Standorten."
    )
    if len(table) and {"gemeinde_ags", "share_before", "share_after"} <= set(table.columns):
        change = pd.to_numeric(table["share_after"], errors="coerce") - pd.to_numeric(
            table["share_before"], errors="coerce"
        )
        top = table.assign(_change=change).sort_values("_change", ascending=False, na_position="last")
        shown = top.head(MAX_TABLE_ROWS - 1)
        before_after += [
            (
                cell_text(r["gemeinde_ags"]),
                cell_text(names.get(str(r["gemeinde_ags"]))),
                de_share(r["share_before"]),
                de_share(r["share_after"]),
                _pp(r["share_before"], r["share_after"]),
            )
            for _, r in shown.iterrows()
        ]
        if len(top) > len(shown):
            note += f" Gezeigt: die {len(shown)} Gemeinden mit dem größten Zuwachs von {len(top)}."
        if scenario.rough:  # each Gemeinde's share from too coarse demand is as rough as the total
            note += f" Nur grobe Näherung: {scenario.rough}"
    tables.append(
        ReportTable(
            title=f"Versorgung vorher / nachher ({threshold})",
            columns=("AGS", "Gebiet", "vorher", "nachher", "Änderung"),
            rows=tuple(before_after),
            numeric=(False, False, True, True, True),
            note=note,
            widths=(20, 60, 18, 18, 20),
        )
    )
    return tables


def _gemeinde(ags: object, names: Mapping[str, str]) -> str:
    """»Bocholt (05554008)«, or the AGS alone where the name is unknown."""
    key = cell_text(ags)
    return f"{names[key]} ({key})" if key in names else key


def gain_map(scenario: Scenario, extent: tuple[float, float, float, float]) -> ReportMap | None:
    """Coverage per additional site: the scenario's before/after shares split by the sites' marginal gains.

    The new sites are selected greedily in order; each site's ``marginal_gain``
    is the demand it newly covers, so the share after ``k`` sites is the
    share before plus the first ``k`` gains' part of the total increase.
    """
    res = scenario.results
    before, after = res.get("share_before"), res.get("share_after")
    new = scenario.selected
    if before is None or after is None or pd.isna(before) or pd.isna(after) or new.empty:
        return None
    gains = pd.to_numeric(new.sort_values("order")["marginal_gain"], errors="coerce").fillna(0.0).to_numpy()
    total = float(gains.sum())
    steps = np.cumsum(gains) / total if total > 0 else np.linspace(1, 1, len(gains))
    shares = [float(before), *(float(before) + (float(after) - float(before)) * steps)]
    threshold = res.get("threshold") or "Schwelle des Szenarios"
    return ReportMap(
        f"Szenario »{scenario.name}«: Versorgung je zusätzlichem Standort",
        f"Versorgter Anteil der Zielgruppe (≤ {threshold}, Schwelle des Szenarios) ohne neue Standorte (0) und "
        "nach jedem weiteren Standort; flacht die Kurve ab, bringt ein weiterer Standort wenig.",
        gain_chart(shares, str(threshold)),
        extent,
    )


def _pp(before: Any, after: Any) -> str:
    """Change of a share in percentage points, e.g. ``'+12,5 Pp.'`` (the difference of the shown shares)."""
    points = de_points(before, after)
    return points if points == MISSING else f"{points} Pp."


def scenario_parameters(scenario: Scenario) -> str:
    """The scenario's settings in plain German (no raw ``key = value`` dump)."""
    p = scenario.parameters
    siting = p.get("siting") or p  # the stored request, or the parameters of an older scenario
    parts = []
    threshold = scenario.results.get("threshold")
    if threshold:
        parts.append(f"versorgt heißt erreichbar in höchstens {threshold}")
    if siting.get("p") not in (None, ""):
        parts.append(f"{de_count(float(siting['p']), 'neuer Standort', 'neue Standorte')} gesucht")
    fixed = len(scenario.fixed_sites)
    parts.append(f"{fixed} bestehende Standorte festgehalten" if fixed else "keine bestehenden Standorte festgehalten")
    return "; ".join(parts)
