"""Benchmark: batch throughput with one and with two dask workers (``integrationsatlas batch``).

The plan is the example plan's questions without its ``[[data]]`` imports: all
53 Kreise × KI and OGS × 5 and 10 km straight line (212 tasks), run on a home
that already holds the imported data (the ``daten/`` folder of a finished
example batch). Each worker count runs the whole plan into a fresh output
folder on a ``LocalCluster``; throughput counts tasks between the first and
the last finished task (cluster start and the first task's loading are left
out, and stated separately as the run's wall time).

Run after the example batch::

    python -m integrationsatlas.cli batch examples/batch_kreise.toml -o /tmp/kreise
    nice python benchmarks/bench_batch.py --home /tmp/kreise/daten

Prints one line per worker count and the speed-up, with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLAN = """
[plan]
name = "Durchsatz"
areas = "kreise"
layers = ["ki", "ogs"]
modes = ["luftlinie"]
thresholds = [5, 10]
by = "gemeinde"
"""


def run(home: Path, workers: int, plan_path: Path) -> dict[str, float]:
    """Run the plan once with ``workers`` local workers into a fresh folder."""
    from geo.settings import Settings
    from integrationsatlas.batch.plan import read_plan
    from integrationsatlas.batch.run import run_batch

    settings = Settings().with_home(home)
    plan = read_plan(plan_path, settings)
    stamps: list[float] = []
    out = Path(tempfile.mkdtemp(prefix=f"bench-batch-{workers}-"))
    try:
        load = os.getloadavg()[0]
        outcome = run_batch(
            plan,
            out,
            settings,
            n_workers=workers,
            progress=lambda done, total, failed: stamps.append(time.perf_counter()),
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert outcome.done == outcome.total and not outcome.failed, outcome
    span = stamps[-1] - stamps[0]
    return {
        "workers": workers,
        "tasks": outcome.total,
        "wall_s": outcome.seconds,
        "tasks_per_s": (len(stamps) - 1) / span,
        "load": load,
        "load_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", type=Path, required=True, help="home with the imported KI/OGS/population data")
    p.add_argument("--repeat", type=int, default=1, help="runs per worker count (best throughput kept)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        plan_path = Path(tmp) / "plan.toml"
        plan_path.write_text(PLAN, encoding="utf-8")
        best: dict[int, dict[str, float]] = {}
        for _ in range(args.repeat):
            for workers in (1, 2):
                row = run(args.home, workers, plan_path)
                print(
                    f"{workers} worker(s): {int(row['tasks'])} tasks, {row['tasks_per_s']:.2f} tasks/s "
                    f"(first to last task), wall {row['wall_s']:.1f} s incl. cluster start; "
                    f"load {row['load']:.1f} → {row['load_after']:.1f}",
                    flush=True,
                )
                if workers not in best or row["tasks_per_s"] > best[workers]["tasks_per_s"]:
                    best[workers] = row
    print(f"speed-up 2 vs 1 worker: {best[2]['tasks_per_s'] / best[1]['tasks_per_s']:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
