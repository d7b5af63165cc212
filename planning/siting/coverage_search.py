"""Swap local search for the maximal covering problem: numba kernels with incremental gains.

A plan is a set of open candidates; ``cnt[i]`` counts the open candidates
covering client ``i``. Two sums per candidate make every swap's value an
``O(1)`` look-up after one pass over the clients the closing site covers
alone (Whitaker's fast interchange, as Resende and Werneck use it for the
p-median):

* ``gain[j] = Σ_{i ∈ C(j), cnt_i = 0} w_i`` — what opening ``j`` adds;
* ``loss[s] = Σ_{i ∈ C(s), cnt_i = 1} w_i`` — what closing the open ``s`` costs.

Swapping ``s`` out and ``j`` in changes the covered weight by
``gain[j] + extra_s[j] − loss[s]``, where ``extra_s[j]`` sums the clients that
only ``s`` covers and ``j`` covers too. :func:`iterated_swaps` runs
best-improvement descents with random perturbations in between (iterated
local search, Lourenço, Martin and Stützle 2003): ``strength`` random swaps,
descent, accept when not worse (or with a small probability), restart from the
best plan now and then.

Only the rule ``Σ y = p`` with fixed (never closed) and closed (never opened)
candidates is handled here; other rules use the generic swap search of
:class:`planning.siting.coverage.MCLP`. Nothing here is spatial.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit

from planning.siting.result import BoolArray, FloatArray


@dataclass(frozen=True)
class CoverageLists:
    """A 0/1 coverage matrix as both adjacency lists, in the kernels' dtypes."""

    row_ptr: Any  # candidates of each client
    row_idx: Any
    col_ptr: Any  # clients of each candidate
    col_idx: Any
    weight: FloatArray

    @classmethod
    def from_matrix(cls, a: sp.csr_array, weight: FloatArray) -> CoverageLists:
        """Lists of the ``k × m`` 0/1 matrix ``a`` with client weights ``weight``."""
        a = sp.csr_array(a)
        c = sp.csc_array(a)
        return cls(
            a.indptr.astype(np.int64),
            a.indices.astype(np.int32),
            c.indptr.astype(np.int64),
            c.indices.astype(np.int32),
            np.asarray(weight, dtype=np.float64),
        )

    def value(self, is_open: BoolArray) -> float:
        """Covered weight of the plan."""
        return float(_covered_weight(self.col_ptr, self.col_idx, self.weight, is_open))


def iterated_swaps(
    lists: CoverageLists,
    start: BoolArray,
    movable: BoolArray,
    allowed: BoolArray,
    seconds: float,
    *,
    seed: int = 0,
    strength: int = 4,
    rounds: int = 50,
    stop: threading.Event | None = None,
    report: Callable[[BoolArray, float], None] | None = None,
    patience: int | None = None,
) -> tuple[BoolArray, float]:
    """Best plan found by iterated swap descents within ``seconds`` (at least one descent).

    Parameters
    ----------
    lists
        The coverage lists.
    start
        Open mask to start from (``p`` candidates).
    movable
        Open candidates that may be closed (not fixed).
    allowed
        Closed candidates that may be opened.
    seconds
        Wall-clock budget; checked between batches of ``rounds`` perturbations.
        The kernels release the GIL, so the search can run in a thread while
        HiGHS (which releases it too) solves on another core.
    seed, strength, rounds
        Random seed, most random swaps per perturbation, perturbations per batch.
    stop
        Ends the search early when set (checked between batches): a search
        running in a thread next to the solver.
    report
        Called with every better plan and its covered weight as it is found.
    patience
        Ends the search after this many batches in a row without a better
        plan (converged: a small instance needs milliseconds, not the whole
        budget); ``None`` searches until ``seconds`` or ``stop``.

    Returns
    -------
    open mask, covered weight
        The best plan found (never worse than the descent from ``start``).

    Examples
    --------
    Three clients, candidates 0 (covers client 0), 1 (clients 1, 2) and 2 (client 2), one site:

    >>> a = sp.csr_array(np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1]], dtype=float))
    >>> lists = CoverageLists.from_matrix(a, np.array([5.0, 4.0, 4.0]))
    >>> y, v = iterated_swaps(lists, np.array([True, False, False]), np.ones(3, bool), np.ones(3, bool), 0.0)
    >>> y.tolist(), v
    ([False, True, False], 8.0)
    """
    deadline = time.perf_counter() + max(seconds, 0.0)
    best = np.asarray(start, dtype=np.bool_).copy()
    best_val = -np.inf
    current = best.copy()
    batch = stalled = 0
    while True:
        current, _, found, found_val = _ils(
            (lists.col_ptr, lists.col_idx, lists.row_ptr, lists.row_idx, lists.weight),
            current,
            np.asarray(movable, dtype=np.bool_),
            np.asarray(allowed, dtype=np.bool_),
            0 if batch == 0 and seconds <= 0 else rounds,
            seed * 1_000_003 + batch,
            max(1, strength),
        )
        if found_val > best_val:
            best, best_val, stalled = found, float(found_val), 0
            if report is not None:
                report(best.copy(), lists.value(best))
        else:
            stalled += 1
        batch += 1
        converged = patience is not None and stalled >= patience
        if converged or time.perf_counter() >= deadline or (stop is not None and stop.is_set()):
            return best, lists.value(best)  # recomputed: the kernels sum changes


# --------------------------------------------------------------------------- numba kernels


@njit(cache=True, nogil=True)
def _covered_weight(col_ptr: Any, col_idx: Any, w: Any, is_open: Any) -> float:  # pragma: no cover - compiled
    covered = np.zeros(w.size, dtype=np.bool_)
    for j in range(is_open.size):
        if is_open[j]:
            for q in range(col_ptr[j], col_ptr[j + 1]):
                covered[col_idx[q]] = True
    total = 0.0
    for i in range(w.size):
        if covered[i]:
            total += w[i]
    return total


# ``cov`` is the tuple (col_ptr, col_idx, row_ptr, row_idx, w) of CoverageLists; ``state`` the tuple
# (is_open, cnt, gain, loss) of one plan: open mask, covering count per client, the two sums per candidate.


@njit(cache=True, nogil=True)
def _init(cov: Any, state: Any) -> float:  # pragma: no cover - compiled
    """Fill ``cnt``, ``gain`` and ``loss`` for the plan ``is_open``; return its covered weight."""
    col_ptr, col_idx, row_ptr, row_idx, w = cov
    is_open, cnt, gain, loss = state
    cnt[:] = 0
    gain[:] = 0.0
    loss[:] = 0.0
    for j in range(is_open.size):
        if is_open[j]:
            for q in range(col_ptr[j], col_ptr[j + 1]):
                cnt[col_idx[q]] += 1
    value = 0.0
    for i in range(w.size):
        if cnt[i] == 0:
            for q in range(row_ptr[i], row_ptr[i + 1]):
                gain[row_idx[q]] += w[i]
        else:
            value += w[i]
            if cnt[i] == 1:
                for q in range(row_ptr[i], row_ptr[i + 1]):
                    if is_open[row_idx[q]]:
                        loss[row_idx[q]] += w[i]
    return value


@njit(cache=True, nogil=True)
def _toggle(cov: Any, state: Any, j: int, add: bool) -> float:  # pragma: no cover - compiled
    """Open (``add``) or close ``j``, updating the sums; return the change of the covered weight."""
    col_ptr, col_idx, row_ptr, row_idx, w = cov
    is_open, cnt, gain, loss = state
    step = 1 if add else -1
    first = 0 if add else 1  # count before the change at which the client's coverage appears/disappears
    is_open[j] = add
    delta = 0.0
    for q in range(col_ptr[j], col_ptr[j + 1]):
        i = col_idx[q]
        c = cnt[i]
        cnt[i] = c + step
        if c == first:  # the client becomes covered (uncovered): every candidate's gain changes
            delta += step * w[i]
            for r in range(row_ptr[i], row_ptr[i + 1]):
                gain[row_idx[r]] -= step * w[i]
            loss[j] += step * w[i]
        elif c == first + 1:  # the other site that covered it alone shares it now (covers it alone again)
            for r in range(row_ptr[i], row_ptr[i + 1]):
                o = row_idx[r]
                if o != j and is_open[o]:
                    loss[o] -= step * w[i]
    return delta


@njit(cache=True, nogil=True)
def _alone(cov: Any, cnt: Any, s: int, extra: Any, add: bool) -> None:  # pragma: no cover - compiled
    """Add (or clear) in ``extra`` the weight of the clients only ``s`` covers, per candidate covering them."""
    col_ptr, col_idx, row_ptr, row_idx, w = cov
    for q in range(col_ptr[s], col_ptr[s + 1]):
        i = col_idx[q]
        if cnt[i] == 1:
            for r in range(row_ptr[i], row_ptr[i + 1]):
                extra[row_idx[r]] = extra[row_idx[r]] + w[i] if add else 0.0


@njit(cache=True, nogil=True)
def _best_swap(
    cov: Any, state: Any, movable: Any, allowed: Any, extra: Any, tol: float
) -> tuple[int, int]:  # pragma: no cover - compiled
    """The swap (out ``s``, in ``j``) that improves the covered weight most by more than ``tol``, or ``(-1, -1)``."""
    is_open, cnt, gain, loss = state
    best = tol
    bs, bj = -1, -1
    m = is_open.size
    for s in range(m):
        if not (is_open[s] and movable[s]):
            continue
        _alone(cov, cnt, s, extra, True)
        for j in range(m):
            if allowed[j] and not is_open[j]:
                d = gain[j] + extra[j] - loss[s]
                if d > best:
                    best, bs, bj = d, s, j
        _alone(cov, cnt, s, extra, False)
    return bs, bj


@njit(cache=True, nogil=True)
def _descend(
    cov: Any, state: Any, movable: Any, allowed: Any, extra: Any, tol: float, value: float
) -> float:  # pragma: no cover - compiled
    """Best-improvement swaps until none improves; returns the covered weight."""
    while True:
        s, j = _best_swap(cov, state, movable, allowed, extra, tol)
        if s < 0:
            return value
        value += _toggle(cov, state, s, False)
        value += _toggle(cov, state, j, True)


@njit(cache=True, nogil=True)
def _ils(
    cov: Any, start: Any, movable: Any, allowed: Any, rounds: int, seed: int, strength: int
) -> tuple[Any, float, Any, float]:  # pragma: no cover - compiled
    """Descent from ``start`` then ``rounds`` perturbation + descent steps; returns (current, value, best, value)."""
    np.random.seed(seed)
    w = cov[4]
    m = start.size
    tol = 1e-9 * max(1.0, w.sum())
    extra = np.zeros(m)
    cur = start.copy()
    trial = cur.copy()
    state = (trial, np.zeros(w.size, dtype=np.int32), np.zeros(m), np.zeros(m))
    cur_val = _descend(cov, state, movable, allowed, extra, tol, _init(cov, state))
    cur[:] = trial
    best = cur.copy()
    best_val = cur_val
    opened = np.empty(m, dtype=np.int64)
    closed = np.empty(m, dtype=np.int64)
    for it in range(rounds):
        trial[:] = cur
        val = _init(cov, state)
        for _ in range(np.random.randint(1, strength + 1)):
            n_open, n_closed = 0, 0
            for j in range(m):
                if trial[j] and movable[j]:
                    opened[n_open] = j
                    n_open += 1
                elif not trial[j] and allowed[j]:
                    closed[n_closed] = j
                    n_closed += 1
            if n_open == 0 or n_closed == 0:
                break
            val += _toggle(cov, state, opened[np.random.randint(n_open)], False)
            val += _toggle(cov, state, closed[np.random.randint(n_closed)], True)
        val = _descend(cov, state, movable, allowed, extra, tol, val)
        if val >= cur_val - tol or np.random.random() < 0.02:
            cur[:] = trial
            cur_val = val
        if val > best_val + tol:
            best[:] = trial
            best_val = val
        if it % 100 == 99:  # back to the best plan now and then
            cur[:] = best
            cur_val = best_val
    return cur, cur_val, best, best_val


class SwapSearchThread:
    """:func:`iterated_swaps` in a worker thread next to the solver; the best plan so far can be read any time.

    The kernels release the GIL and so does HiGHS while it solves, so on a
    machine with two cores the search costs the solver nothing.

    Examples
    --------
    >>> a = sp.csr_array(np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1]], dtype=float))
    >>> lists = CoverageLists.from_matrix(a, np.array([5.0, 4.0, 4.0]))
    >>> search = SwapSearchThread(lists, np.array([True, False, False]), np.ones(3, bool), np.ones(3, bool), 0.1)
    >>> y, v = search.finish()
    >>> y.tolist(), v
    ([False, True, False], 8.0)
    """

    def __init__(
        self, lists: CoverageLists, start: BoolArray, movable: BoolArray, allowed: BoolArray, seconds: float
    ) -> None:
        self._best = (np.asarray(start, dtype=np.bool_).copy(), lists.value(start))
        self._lock = threading.Lock()
        self._stop = threading.Event()

        def keep(y: BoolArray, value: float) -> None:
            with self._lock:
                if value > self._best[1]:
                    self._best = (y, value)

        def search() -> None:
            keep(*iterated_swaps(lists, start, movable, allowed, seconds, rounds=10, stop=self._stop, report=keep))

        self._thread = threading.Thread(target=search, name="mclp-swaps", daemon=True)
        self._thread.start()

    def best(self) -> tuple[BoolArray, float]:
        """The best plan found so far and its covered weight."""
        with self._lock:
            return self._best

    def finish(self) -> tuple[BoolArray, float]:
        """Stop the search (after its current batch) and return the best plan."""
        self._stop.set()
        self._thread.join()
        return self.best()
