"""Reductions of 0/1 coverage matrices: rows implied in a set cover, candidates dominated in the MCLP.

Both rest on one comparison: the pairs of rows ``(i, k)`` with
``N(i) ⊆ N(k)``. A superset of row ``i`` must contain the rarest column of
``i``, so only the rows of that column are candidates; their overlaps are
counted by sparse products in chunks. Nothing here is spatial.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from planning.siting.result import BoolArray, IntArray


def _contained_pairs(a: sp.csr_array, max_work: float) -> tuple[IntArray, IntArray] | None:
    """Pairs ``(i, k)``, ``i ≠ k``, of non-empty rows of a 0/1 matrix with ``N(i) ⊆ N(k)``.

    A superset of row ``i`` must contain its rarest column, so only the rows
    of that column are compared (in chunks that bound the memory). ``None``
    when the comparison would exceed ``max_work`` entry look-ups.
    """
    k = a.shape[0]
    length = np.diff(a.indptr)
    colcount = np.bincount(a.indices, minlength=a.shape[1])
    nonempty = np.flatnonzero(length > 0)
    row_of = np.repeat(np.arange(k), length)
    o = np.lexsort((colcount[a.indices], row_of))
    rarest = a.indices[o[a.indptr[:-1][nonempty]]]
    n_pairs = colcount[rarest]
    if float((n_pairs * length[nonempty]).sum()) > max_work:
        return None
    ac = a.tocsc()
    pi = np.repeat(nonempty, n_pairs)
    offs = np.arange(pi.size) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    pk = ac.indices[np.repeat(ac.indptr[rarest], n_pairs) + offs]
    sel = (pk != pi) & (length[pk] >= length[pi])
    pi, pk = pi[sel], pk[sel]
    keep = np.zeros(pi.size, dtype=bool)
    chunk = max(1, int(4e6 // max(1, int(length.max(initial=1)))))
    for s in range(0, pi.size, chunk):
        i, kk = pi[s : s + chunk], pk[s : s + chunk]
        overlap = np.asarray((a[i].multiply(a[kk])).sum(axis=1)).ravel()
        keep[s : s + chunk] = overlap == length[i]
    return pi[keep], pk[keep]


def _drop_dominated_rows(a: sp.csr_array, max_work: float = 3e9) -> sp.csr_array:
    """Rows of a distinct-row 0/1 covering matrix that are not implied by another row.

    In ``a y ≥ 1`` a row ``k`` is implied by a row ``i`` with ``N(i) ⊂ N(k)``.
    All rows are kept when the comparison would exceed ``max_work`` look-ups.

    Examples
    --------
    >>> a = sp.csr_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], dtype=float))
    >>> _drop_dominated_rows(a).toarray().tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    """
    pairs = _contained_pairs(a, max_work) if a.shape[0] > 1 else None
    if pairs is None:
        return a
    dominated = np.zeros(a.shape[0], dtype=bool)
    dominated[pairs[1]] = True
    return a[np.flatnonzero(~dominated)]


def _dominated_columns(a: sp.csr_array, max_work: float = 3e9) -> BoolArray:
    """Columns whose covered rows are contained in another column's (MCLP with ``Σ y = p`` only).

    Of identical columns the lowest index is kept; empty columns are
    dominated when any column is non-empty. Nothing is dominated when the
    comparison would exceed ``max_work`` look-ups.

    Examples
    --------
    >>> a = sp.csr_array(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0]], dtype=float))
    >>> _dominated_columns(a).tolist()
    [True, False, False, True]
    """
    at = sp.csr_array(a.T)
    at.sort_indices()
    m = at.shape[0]
    out = np.zeros(m, dtype=bool)
    length = np.diff(at.indptr)
    if m < 2 or not (length > 0).any():
        return out
    pairs = _contained_pairs(at, max_work)
    if pairs is None:
        return out
    i, k = pairs
    strict = (length[k] > length[i]) | (k < i)  # equal length and contained: identical, keep the lowest
    out[i[strict]] = True
    out[length == 0] = True
    return out
