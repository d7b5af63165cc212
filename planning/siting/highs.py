"""Small helpers around a highspy model, shared by the Benders solvers of p-median and MCLP."""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from planning.siting.result import FloatArray

#: HiGHS' infinity (row and column bounds).
INF = highspy.kHighsInf


def new_highs(time_limit: float) -> highspy.Highs:
    """A quiet, single-threaded HiGHS model with ``time_limit`` seconds (at least 0.01 s)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    h.setOptionValue("threads", 1)
    return h


def add_rows(h: highspy.Highs, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None:
    """Add the rows ``lo ≤ a x ≤ hi`` to ``h`` (infinite bounds become HiGHS' infinity)."""
    if a.shape[0] == 0:
        return
    a = sp.csr_array(a)
    h.addRows(
        a.shape[0],
        np.where(np.isfinite(lo), lo, -INF),
        np.where(np.isfinite(hi), hi, INF),
        a.nnz,
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(float),
    )
