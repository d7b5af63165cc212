"""Constraints on the set of open sites shared by all models: p, fixed sites, budget, groups, capacity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.optimize import LinearConstraint

from geo.errors import InfeasibleError, Problem
from planning.siting.result import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class _Rules:
    """Constraints on the set of open sites, shared by all models."""

    m: int
    p: int | None
    fixed: IntArray
    budget: float | None
    site_cost: FloatArray
    group: IntArray  # group code per candidate, -1 = no group
    group_min: IntArray  # minimum per group code
    group_names: tuple[str, ...]
    capacity: FloatArray | None

    @property
    def fixed_mask(self) -> BoolArray:
        mask = np.zeros(self.m, dtype=bool)
        mask[self.fixed] = True
        return mask

    def rows(self, n_vars: int) -> list[LinearConstraint]:
        """Linear constraints on ``y`` (columns ``0..m-1``) in a model with ``n_vars`` columns."""
        out = []
        cols = np.arange(self.m)
        if self.p is not None:
            a = sp.csr_array((np.ones(self.m), (np.zeros(self.m, dtype=np.int64), cols)), shape=(1, n_vars))
            out.append(LinearConstraint(a, self.p, self.p))
        if self.budget is not None:
            a = sp.csr_array((self.site_cost, (np.zeros(self.m, dtype=np.int64), cols)), shape=(1, n_vars))
            out.append(LinearConstraint(a, -np.inf, self.budget))
        need = np.flatnonzero(self.group_min > 0)
        if need.size:
            code = np.full(self.group_min.size, -1)
            code[need] = np.arange(need.size)
            member = (self.group >= 0) & (code[np.maximum(self.group, 0)] >= 0)
            a = sp.csr_array(
                (np.ones(int(member.sum())), (code[self.group[member]], cols[member])), shape=(need.size, n_vars)
            )
            out.append(LinearConstraint(a, self.group_min[need].astype(float), np.inf))
        return out

    def names(self) -> str:
        parts = []
        if self.p is not None:
            parts.append(f"p = {self.p}")
        if self.fixed.size:
            parts.append(f"{self.fixed.size} feste Standorte")
        if self.budget is not None:
            parts.append(f"Budget {self.budget:,.0f}".replace(",", "."))
        if (self.group_min > 0).any():
            parts.append("Mindestanzahl je Gruppe")
        if self.capacity is not None:
            parts.append("Kapazitäten")
        return ", ".join(parts)

    # ---- admissibility for the heuristics
    def can_add(self, is_open: BoolArray) -> BoolArray:
        """Candidates that may be opened next without making the constraints unreachable."""
        closed = ~is_open
        allowed = closed.copy()
        deficit = self._deficit(is_open)
        slots = None if self.p is None else self.p - int(is_open.sum())
        g_ok = self.group >= 0
        in_deficit = np.zeros(self.m, dtype=bool)
        in_deficit[g_ok] = deficit[self.group[g_ok]] > 0
        if slots is not None and deficit.sum() >= slots:
            allowed &= in_deficit
        if self.budget is not None:
            left = self.budget - float(self.site_cost[is_open].sum())
            c = self.site_cost
            if slots is None:
                allowed &= c <= left + 1e-9
            else:
                k = max(slots - 1, 0)
                cheap = np.sort(c[closed])
                base = cheap[:k].sum()
                with_next = cheap[: k + 1].sum()
                # completion cost of the remaining k sites if j itself is opened
                threshold = cheap[k - 1] if k > 0 and cheap.size >= k else -np.inf
                completion = np.where(c <= threshold, with_next - c, base) if k > 0 else np.zeros(self.m)
                allowed &= c + completion <= left + 1e-9
        return allowed

    def _deficit(self, is_open: BoolArray) -> IntArray:
        g_ok = (self.group >= 0) & is_open
        count = np.bincount(self.group[g_ok], minlength=self.group_min.size)
        return np.maximum(self.group_min - count, 0)

    def can_swap(self, is_open: BoolArray, out: IntArray) -> BoolArray:
        """``len(out) × m`` mask: may site ``out[s]`` be closed and candidate ``j`` opened?"""
        ok = np.broadcast_to(~is_open, (out.size, self.m)).copy()
        ok[self.fixed_mask[out], :] = False
        if self.budget is not None:
            spent = float(self.site_cost[is_open].sum())
            ok &= (spent - self.site_cost[out][:, None] + self.site_cost[None, :]) <= self.budget + 1e-9
        if (self.group_min > 0).any():
            g_ok = (self.group >= 0) & is_open
            count = np.bincount(self.group[g_ok], minlength=self.group_min.size)
            gs = self.group[out]
            tight = np.zeros(out.size, dtype=bool)
            tight[gs >= 0] = count[gs[gs >= 0]] - 1 < self.group_min[gs[gs >= 0]]
            same = self.group[None, :] == gs[:, None]
            ok &= ~tight[:, None] | same
        return ok


def _rules(
    m: int,
    p: int | None,
    fixed: ArrayLike | None,
    budget: float | None,
    site_cost: ArrayLike | None,
    min_per_group: tuple[ArrayLike, int | Mapping[Any, int]] | None,
    capacity: ArrayLike | float | None,
    problems: list[Problem],
) -> _Rules:
    """Normalise and validate the site constraints (collects all problems)."""
    fx = np.zeros(0, dtype=np.int64)
    if fixed is not None:
        raw = np.asarray(fixed).ravel()
        if raw.dtype == bool:
            if raw.size != m:
                problems.append(
                    Problem(f"Die Maske der festen Standorte hat {raw.size} Einträge, es gibt aber {m} Kandidaten.")
                )
            else:
                fx = np.flatnonzero(raw).astype(np.int64)
        elif raw.size:
            if not np.issubdtype(raw.dtype, np.number) or not np.all(np.mod(raw, 1) == 0):
                problems.append(Problem("Feste Standorte müssen als ganzzahlige Kandidatenindizes angegeben werden."))
            else:
                fx = raw.astype(np.int64)
                bad = (fx < 0) | (fx >= m)
                if bad.any():
                    problems.append(
                        Problem(
                            f"Feste Standorte {fx[bad].tolist()[:10]} liegen außerhalb der Kandidatenindizes 0…{m - 1}."
                        )
                    )
                    fx = fx[~bad]
                if np.unique(fx).size != fx.size:
                    problems.append(
                        Problem(
                            "Feste Standorte enthalten doppelte Indizes.", "Jeden festen Standort nur einmal angeben."
                        )
                    )
                fx = np.unique(fx)
    if p is not None and (not float(p).is_integer() or p <= 0):
        problems.append(Problem(f"p = {p} ist ungültig.", "p muss eine ganze Zahl ≥ 1 sein (Zahl der Standorte)."))
    cost_arr = np.zeros(m)
    if budget is not None:
        if site_cost is None:
            problems.append(
                Problem(
                    "Ein Budget wurde angegeben, aber keine Kosten je Kandidat (site_cost).",
                    "Kosten je Kandidat übergeben, z. B. aus einer Kostenspalte.",
                )
            )
        elif not np.isfinite(budget) or budget < 0:
            problems.append(Problem(f"Das Budget {budget} ist ungültig.", "Ein Budget ≥ 0 in Euro angeben."))
    if site_cost is not None:
        cost_arr = np.asarray(site_cost, dtype=float).ravel()
        if cost_arr.size != m:
            problems.append(Problem(f"Es gibt {cost_arr.size} Standortkosten, aber {m} Kandidaten."))
            cost_arr = np.zeros(m)
        elif (~np.isfinite(cost_arr) | (cost_arr < 0)).any():
            bad_idx = np.flatnonzero(~np.isfinite(cost_arr) | (cost_arr < 0))
            problems.append(
                Problem(
                    f"{bad_idx.size} Standortkosten fehlen oder sind negativ (erster Kandidat {bad_idx[0]}).",
                    "Kosten ≥ 0 angeben oder Kandidaten ohne Kosten vorher entfernen.",
                )
            )
            cost_arr = np.where(np.isfinite(cost_arr) & (cost_arr >= 0), cost_arr, 0.0)
    group = np.full(m, -1, dtype=np.int64)
    group_min = np.zeros(0, dtype=np.int64)
    names: tuple[str, ...] = ()
    if min_per_group is not None:
        labels_raw, minimum = min_per_group
        labels = pd.Series(np.asarray(labels_raw, dtype=object).ravel())
        if labels.size != m:
            problems.append(
                Problem(
                    f"Es gibt {labels.size} Gruppenbezeichnungen, aber {m} Kandidaten.",
                    "Je Kandidat genau eine Gruppe (z. B. Gemeinde-AGS) übergeben.",
                )
            )
        else:
            if isinstance(minimum, Mapping):
                wanted = {str(k): int(v) for k, v in minimum.items()}
            else:
                wanted = {str(g): int(minimum) for g in labels.dropna().astype(str).unique()}
            name_list = sorted(set(wanted) | set(labels.dropna().astype(str).unique()))
            code_of = {g: c for c, g in enumerate(name_list)}
            mapped = labels.map(lambda v: code_of.get(str(v), -1) if pd.notna(v) else -1)
            group = mapped.to_numpy(dtype=np.int64)
            group_min = np.array([wanted.get(g, 0) for g in name_list], dtype=np.int64)
            names = tuple(name_list)
            if (group_min < 0).any():
                problems.append(Problem("Die Mindestanzahl je Gruppe muss ≥ 0 sein."))
    cap = None
    if capacity is not None:
        cap = (
            np.broadcast_to(np.asarray(capacity, dtype=float), (m,)).copy()
            if np.ndim(capacity) == 0
            else np.asarray(capacity, dtype=float).ravel()
        )
        if cap.size != m:
            problems.append(Problem(f"Es gibt {cap.size} Kapazitäten, aber {m} Kandidaten."))
            cap = None
        elif (~np.isfinite(cap) | (cap < 0)).any():
            problems.append(Problem("Kapazitäten müssen endlich und ≥ 0 sein."))
            cap = None
    return _Rules(
        m,
        None if p is None else int(p),
        fx,
        None if budget is None else float(budget),
        cost_arr,
        group,
        group_min,
        names,
        cap,
    )


def _check_feasible(rules: _Rules, total_weight: float | None = None) -> None:
    """Explicit infeasibility checks before solving; German messages naming the constraint."""
    m, p, nf = rules.m, rules.p, rules.fixed.size
    if p is not None and p < nf:
        raise InfeasibleError(
            f"p = {p} ist kleiner als die Zahl der festen Standorte ({nf}). Feste Standorte "
            f"zählen zu p; bitte p auf mindestens {nf} erhöhen oder weniger Standorte festlegen."
        )
    if p is not None and p > m:
        raise InfeasibleError(
            f"p = {p} ist größer als die Zahl der Kandidaten ({m}). Bitte p verkleinern oder mehr Kandidaten zulassen."
        )
    if rules.budget is not None:
        fixed_cost = float(rules.site_cost[rules.fixed].sum())
        if fixed_cost > rules.budget + 1e-9:
            raise InfeasibleError(
                f"Das Budget ({_eur(rules.budget)}) liegt unter den Kosten der festen Standorte "
                f"({_eur(fixed_cost)}). Bitte das Budget erhöhen oder weniger Standorte "
                "festlegen."
            )
        if p is not None:
            rest = np.sort(np.delete(rules.site_cost, rules.fixed))[: p - nf].sum()
            if fixed_cost + rest > rules.budget + 1e-9:
                raise InfeasibleError(
                    f"Das Budget ({_eur(rules.budget)}) reicht nicht für p = {p} Standorte: "
                    f"schon die günstigste Auswahl kostet {_eur(fixed_cost + rest)}. Bitte das "
                    "Budget erhöhen oder p verkleinern."
                )
    if (rules.group_min > 0).any():
        member = rules.group >= 0
        avail = np.bincount(rules.group[member], minlength=rules.group_min.size)
        fixed_in = np.bincount(rules.group[rules.fixed][rules.group[rules.fixed] >= 0], minlength=rules.group_min.size)
        empty = np.flatnonzero((rules.group_min > 0) & (avail == 0))
        if empty.size:
            names = ", ".join(rules.group_names[g] for g in empty[:10])
            raise InfeasibleError(
                f"Mindestanzahl je Gruppe nicht erfüllbar: {empty.size} Gruppe(n) ohne jeden "
                f"Kandidaten ({names}). Bitte dort Kandidaten hinzufügen oder die Mindestanzahl "
                "senken."
            )
        short = np.flatnonzero(avail < rules.group_min)
        if short.size:
            g = short[0]
            raise InfeasibleError(
                f"Mindestanzahl je Gruppe nicht erfüllbar: Gruppe {rules.group_names[g]} verlangt "
                f"{rules.group_min[g]} Standorte, hat aber nur {avail[g]} Kandidaten."
            )
        need = int(np.maximum(rules.group_min, fixed_in).sum()) + int(nf - fixed_in.sum())
        if p is not None and need > p:
            raise InfeasibleError(
                f"Mindestanzahl je Gruppe nicht erfüllbar: sie verlangt mindestens {need - nf} neue Standorte"
                + (f" neben den festen ({nf})" if nf else "")
                + f", geplant sind {p - nf}. Bitte mehr neue Standorte planen oder die Mindestanzahl je Gruppe "
                "senken."
            )
    if rules.capacity is not None and total_weight is not None and p is not None:
        free = np.delete(rules.capacity, rules.fixed)
        best = float(rules.capacity[rules.fixed].sum() + np.sort(free)[::-1][: p - nf].sum())
        if best + 1e-9 < total_weight:
            raise InfeasibleError(
                f"Kapazität zu klein: selbst die {p} Standorte mit der größten Kapazität fassen "
                f"nur {best:,.0f}, die Nachfrage beträgt {total_weight:,.0f}. Bitte p erhöhen "
                "oder Kapazitäten anpassen.".replace(",", ".")
            )


def _eur(x: float) -> str:
    return f"{x:,.0f} €".replace(",", ".")


def _infeasible_from_solver(rules: _Rules, what: str) -> InfeasibleError:
    return InfeasibleError(
        f"Das Modell hat keine zulässige Lösung: {what} Beteiligte Bedingungen: "
        f"{rules.names() or 'keine'}. Bitte Budget, p oder die Mindestanzahl je Gruppe lockern."
    )
