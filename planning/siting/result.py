"""The frozen result of a siting model, and the labels of its status and model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

log = logging.getLogger(__name__)

#: Largest number of constraint-matrix nonzeros handed to HiGHS by default.
DEFAULT_MAX_EXACT_SIZE = 5_000_000
#: Relative MIP gap asked from HiGHS.
MIP_REL_GAP = 1e-9
#: Gaps below this are reported as 0.0 (proven optimal).
_GAP_ZERO = 1e-9

#: German labels of :attr:`SitingResult.status`.
STATUS_LABELS: dict[str, str] = {
    "optimal": "optimal (bewiesen)",
    "time_limit": "Zeitlimit erreicht – beste gefundene Lösung mit Lücke zur Schranke",
    "heuristic": "heuristische Lösung (Greedy + Tausch), Lücke zur LP-Schranke angegeben",
}

#: German labels of :attr:`SitingResult.model`.
MODEL_LABELS: dict[str, str] = {
    "mclp": "Maximale Abdeckung (MCLP)",
    "lscp": "Minimale Standortzahl für volle Abdeckung (LSCP)",
    "pmedian": "Minimale gewichtete Entfernung (p-Median)",
}

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
CostLike: TypeAlias = ArrayLike | sp.sparray | sp.spmatrix


# --------------------------------------------------------------------------- result


def _frozen_array(a: ArrayLike | None, dtype: Any) -> Any:
    if a is None:
        return None
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class SitingResult:
    """The solution of a siting model (immutable; arrays are read-only).

    Attributes
    ----------
    model
        ``"mclp"``, ``"lscp"`` or ``"pmedian"``.
    selected
        Sorted indices of the open candidates (fixed ones included).
    objective
        Covered weight (MCLP), number of sites (LSCP) or the weighted cost
        ``Σ w_i c_{i,j(i)}`` (p-median).
    bound
        Best proven bound on the optimum: an upper bound for MCLP, a lower
        bound for LSCP and p-median (HiGHS' dual bound, or the LP bound for
        the heuristic).
    gap
        ``|bound - objective| / |objective|``; ``0.0`` when proven optimal.
    status
        ``"optimal"``, ``"time_limit"`` or ``"heuristic"``; German text in
        :attr:`status_label`.
    seconds
        Wall-clock time of building the model (``from_cost_matrix`` or
        ``from_geodataframes``) and of ``solve()``; the time limit covers both.
    method
        ``"highs-milp"``, ``"highs-benders"`` (uncapacitated p-median and MCLP) or
        ``"greedy+swap"``.
    assignment
        Per demand point the serving selected candidate: nearest selected
        site (within the radius for MCLP/LSCP); with a capacity the site
        serving the largest share; ``-1`` if none.
    covered
        MCLP/LSCP: per demand point, whether it is covered; ``None`` for the
        p-median.
    order
        ``selected`` in selection order: the fixed sites first (as given),
        then by marginal gain. Heuristic solutions keep the greedy order of
        construction when no swap changed them; exact (and swapped) solutions
        get an order recomputed greedily among the selected sites (largest
        marginal objective gain first), which is what the explanations show.
    notes
        German notes for the user (fallback used, uncoverable demand …).
    """

    model: str
    selected: IntArray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    method: str
    assignment: IntArray | None
    covered: BoolArray | None
    order: IntArray
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "selected", _frozen_array(self.selected, np.int64))
        object.__setattr__(self, "order", _frozen_array(self.order, np.int64))
        object.__setattr__(self, "assignment", _frozen_array(self.assignment, np.int64))
        object.__setattr__(self, "covered", _frozen_array(self.covered, bool))

    @property
    def status_label(self) -> str:
        """German description of :attr:`status`."""
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def model_label(self) -> str:
        """German name of the model."""
        return MODEL_LABELS[self.model]

    @property
    def is_optimal(self) -> bool:
        """Whether the objective is proven optimal."""
        return self.status == "optimal"

    def as_dict(self) -> dict[str, Any]:
        """Scalars and the selection as a JSON-serialisable dict."""
        return {
            "model": self.model,
            "selected": self.selected.tolist(),
            "order": self.order.tolist(),
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "status_label": self.status_label,
            "seconds": self.seconds,
            "method": self.method,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- input handling
