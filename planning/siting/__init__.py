"""Exact location-allocation models: MCLP, LSCP and p-median, solved with HiGHS.

The models follow the shape of :mod:`spopt.locate`: ``from_cost_matrix`` is the
core constructor, ``from_geodataframes`` a convenience wrapper, and ``solve()``
returns a frozen :class:`SitingResult`. They accept the same inputs as spopt
(``cost`` is ``n_demand × n_candidates``; ``fixed`` are candidate indices that
are forced open and count toward ``p``, spopt's ``predefined_facilities_arr``),
so every objective can be checked against spopt.

The integer programs are assembled directly from sparse matrices and solved
with HiGHS through :func:`scipy.optimize.milp`:

MCLP (maximal covering)
    Uncapacitated: Benders decomposition after Cordeau, Furini and Ljubić
    (2019, EJOR 275(3), "Benders decomposition for very large scale partial
    set covering and maximal covering location problems";
    :mod:`planning.siting.coverage_benders`). Demand points covered by the
    same set of candidates are aggregated, uncoverable demand and demand
    covered by a fixed site are taken out; the client variables are
    projected out, one ``θ_g`` per group of clients (grouped by their two
    nearest candidates), cuts ``θ_g ≤ Σ_{i∈g} w_i min(1, Σ_{j∈N(i)} y_j)``
    separated in closed form. Candidates whose clients are a subset of
    another's are closed (only with ``Σ y = p`` as the sole rule); the
    master LP is solved by stabilised cutting planes; the incumbent is the
    better of greedy+swap and LP rounding+swap; candidates are fixed by
    reduced costs; the master MIP is re-solved with the cuts at its integer
    solutions until its objective equals the exact value of its solution
    (``method="highs-benders"``). Capacitated: the compact model with split
    demand (``"highs-milp"``).
LSCP (location set covering)
    ``min Σ y_j`` s.t. ``Σ_{j∈N_k} y_j ≥ 1`` for every distinct coverable
    row not already covered by a fixed site; rows implied by a subset row
    are dropped first; at a time limit the greedy cover is returned when it
    is smaller than HiGHS' incumbent. Demand that no candidate reaches
    is reported as *uncoverable* (``covered == False``), not as infeasible.
p-median
    Uncapacitated: the Benders reformulation of Duran-Mateluna, Ales and
    Elloumi (2023, EJOR 308(1), "An efficient Benders decomposition for the
    p-median problem"): one continuous ``θ_i`` per demand point and cuts
    ``θ_i ≥ D - Σ_j (D - c_ij)⁺ y_j``, valid for every threshold ``D``. The
    LP relaxation is solved by cutting planes in one warm-started HiGHS model
    (highspy) with in-out stabilisation and cuts at the critical distance and
    its neighbouring breakpoints (the structure of the radius formulation of
    García, Labbé and Marín 2011); it stops when the master bound meets the
    exact LP value, not after a round cap. The rounded LP solution improved
    by swaps (Whitaker / Resende–Werneck) is the incumbent; candidates are
    fixed by reduced costs, and a best-first branch-and-Benders-cut on the
    rest (strong branching, subtree reduced-cost fixing, integral objectives
    rounded up) proves optimality (``gap == 0``, ``method="highs-benders"``).
    At the time limit the best solution found is returned with the proven
    bound and a note on how far it may be from the optimum. All 40
    OR-Library instances pmed1–pmed40 are solved to their published optima
    (``benchmarks/bench_orlib.py``); the classic ``n·m`` assignment
    formulation's LP alone takes HiGHS minutes at 2,000 × 200.
    Capacitated: the classic formulation (continuous ``x_ij ≤ y_j``, ``Σ_j x_ij = 1``, ``Σ_i w_i x_ij ≤ cap_j y_j``)
    on the reachable pairs; demand may be split between sites.

Constraints (all models where they make sense): fixed open sites (``fixed``),
a budget with a cost per candidate (``Σ site_cost_j y_j ≤ budget``), a minimum
number of sites per group (Gemeinde, Kreis; ``min_per_group``) and, for MCLP
and p-median, a capacity per site. With a capacity, MCLP limits the *covered
weight* assigned to each site (``Σ_k w_k u_kj ≤ cap_j y_j``, demand may be
split; the objective is the served weight).

Large instances and the fallback
    An instance whose constraint matrix would hold more than ``max_exact_size``
    nonzeros (default :data:`DEFAULT_MAX_EXACT_SIZE`; the MCLP/LSCP coverage
    nonzeros after aggregation, the number of reachable pairs for the
    p-median) is not handed to the MIP solver. The same holds when HiGHS stops
    at the time limit without any feasible solution. Then a greedy
    construction followed by a best-improvement swap local search is used
    (vectorised with NumPy/scipy.sparse; for LSCP greedy plus removal of
    redundant sites). The result says so (``status="heuristic"``,
    ``method="greedy+swap"``, a log warning) and reports the gap to the LP
    relaxation bound (for MCLP also the submodularity bound, the smaller one
    counts; for the p-median the last Benders LP bound reached in time). The
    heuristic does not support capacities: capacitated instances are always
    handed to HiGHS.

Notes
-----
Costs are in whatever unit the caller uses (metres in EPSG:25832 for
:meth:`MCLP.from_geodataframes`, seconds for travel times); ``service_radius``
is in the same unit. A cost equal to the radius counts as covered (as in
spopt). In a sparse ``cost`` only *stored* entries are reachable (explicit
zeros included); in a dense one ``inf`` means unreachable.
"""

from planning.siting.coverage import LSCP, MCLP
from planning.siting.pmedian import PMedian
from planning.siting.result import DEFAULT_MAX_EXACT_SIZE, MODEL_LABELS, STATUS_LABELS, SitingResult

__all__ = [
    "DEFAULT_MAX_EXACT_SIZE",
    "LSCP",
    "MCLP",
    "MODEL_LABELS",
    "STATUS_LABELS",
    "PMedian",
    "SitingResult",
]
