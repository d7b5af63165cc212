"""Run every benchmark once and assemble BENCHMARKS.md from benchmarks/results/*.md.

Usage: ``python benchmarks/run_all.py [NAME ...]`` (names without ``bench_`` and ``.py``);
``python benchmarks/run_all.py --assemble`` only rebuilds BENCHMARKS.md from the stored sections.
Each benchmark script runs its baseline in the same run and writes its own
markdown section to ``benchmarks/results/<name>.md``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from _report import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ORDER = (
    "summary",
    "coverage",
    "network",
    "network_cache",
    "streets",
    "search",
    "transit",
    "zensus",
    "2sfca",
    "siting",
    "mclp_scale",
    "decisions",
    "orlib",
    "app",
    "app_day",
    "osm_background",
    "fuzz_import",
    "fuzz_importers",
    "landscale",
    "landwide_walk",
    "transit_kreis",
)


def main(names: list[str]) -> int:
    """Run the chosen (default: all) benchmarks and rewrite BENCHMARKS.md."""
    assemble_only = "--assemble" in names
    names = [n for n in names if n != "--assemble"]
    wanted = [] if assemble_only else names or [n for n in ORDER if (HERE / f"bench_{n}.py").exists()]
    for name in wanted:
        script = HERE / f"bench_{name}.py"
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(script)], cwd=ROOT, check=True)
        print(f"   done in {time.perf_counter() - t0:.0f} s", flush=True)
    sections = [(HERE / "results" / f"{n}.md") for n in ORDER]
    body = "\n\n".join(p.read_text().strip() for p in sections if p.exists())
    (ROOT / "BENCHMARKS.md").write_text(
        "# Benchmarks\n\n"
        "Speed and memory are measured here, never in timed tests. Every benchmark runs its peer or\n"
        "baseline **in the same run** and reports the ratio. Reproduce all with `make bench`\n"
        "(or one with `python benchmarks/bench_<name>.py`).\n\n"
        f"Last assembled on: {machine()}.\n\n" + body + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
