"""Fuzz the importer: seeds of every format, hostile cases, byte mutants, bombs and concurrent imports.

Invariant for every case: ``integrationsatlas import`` refuses with exit 2 and a
German message naming the file (and row/feature/column where there is one),
or the import is correct; never a traceback, the store unchanged after every
refusal, memory bounded. Concurrent imports of the same ids: exactly one wins.

Usage::

    .venv/bin/python benchmarks/fuzz_import.py                    # 2,000 mutants, scaled-down bombs
    .venv/bin/python benchmarks/fuzz_import.py --mutants 5000 --big  # the full-size bombs of the report

Writes ``benchmarks/results/fuzz_import.md``.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import fuzz_corpus as fc  # noqa: E402
import geopandas as gpd  # noqa: E402
from _report import machine, write_section  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from geo.settings import Settings  # noqa: E402
from geo.store import DataStore  # noqa: E402

_RACER = (
    "import sys, time\n"
    "from integrationsatlas.cli import build_parser, main\n"
    "build_parser()\n"
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def run_cli(path: Path, home: Path, *, start_at: float | None = None) -> tuple[int, str, float, float]:
    """``integrationsatlas import PATH --layer kita`` in a fresh process: exit code, stderr, peak RSS MB, seconds."""
    env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(home), "INTEGRATIONSATLAS_OFFLINE": "1"}
    args = [sys.executable, "-c", _RACER, str(start_at or 0.0), "import", str(path), "--layer", "kita"]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as errfile:  # a file, not a pipe: a long message cannot block the child
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=errfile)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        errfile.seek(0)
        err = errfile.read().decode("utf-8", "replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err, usage.ru_maxrss / 1024, seconds


def seeded_settings(home: Path) -> Settings:
    settings = Settings().with_home(home)
    seed = gpd.GeoDataFrame(
        {"id": ["SEED"], "name": ["Bestand"]}, geometry=[Point(356_000, 5_645_000)], crs="EPSG:25832"
    )
    DataStore(settings.store_path).write_layer(
        "kita", seed, mode="append", source_file="seed", source="fuzz", licence="CC0"
    )
    return settings


def race(folder: Path, home: Path, rounds: int, ids: int) -> tuple[int, int, list[str]]:
    """Two processes import the same ids at the same moment, ``rounds`` times: (rounds with exactly one
    winner, duplicate ids in the store afterwards, odd outcomes)."""
    odd = []
    one_winner = 0
    seeded_settings(home)  # the store file exists (creating it concurrently is a separate matter)
    for r in range(rounds):
        rows = "".join(f"R{r}-{i};Kita {i};50667;6,95{i % 100:02d};50,94{i % 100:02d};10\n" for i in range(ids))
        paths = []
        for who in ("a", "b"):
            p = folder / f"race_{r}_{who}.csv"
            p.write_text("id;name;plz;lon;lat;plaetze\n" + rows, encoding="utf-8")
            paths.append(p)
        start = time.time() + 6.0
        env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(home), "INTEGRATIONSATLAS_OFFLINE": "1"}
        errs = [tempfile.TemporaryFile() for _ in paths]  # noqa: SIM115 - closed below
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _RACER, str(start), "import", str(p), "--layer", "kita"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=e,
            )
            for p, e in zip(paths, errs, strict=True)
        ]
        codes = [p.wait() for p in procs]
        texts = []
        for e in errs:
            e.seek(0)
            texts.append(e.read().decode("utf-8", "replace")[-300:])
            e.close()
        if sorted(codes) == [0, 2]:
            one_winner += 1
        else:
            odd.append(f"round {r}: exit codes {codes}: " + " | ".join(texts))
    stored = DataStore(home / "store.gpkg").read_layer("kita")
    duplicates = int(stored["id"].duplicated().sum()) if stored is not None else 0
    return one_winner, duplicates, odd


_BASELINE = (
    "import collections, json, sys, tempfile\n"
    "from pathlib import Path\n"
    "sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])\n"
    "import fuzz_corpus as fc, fuzz_import as fi\n"
    "tmp = Path(tempfile.mkdtemp(prefix='fuzz-baseline-'))\n"
    "settings = fi.seeded_settings(tmp / 'home')\n"
    "cases = fc.seeds(tmp / 's') + [c for c in fc.hostile(tmp / 'h') if c.kind != 'bomb']\n"
    "print(json.dumps(collections.Counter(fc.run_case(c, settings).verdict for c in cases)))\n"
)


def baseline(src: Path) -> str:
    """Verdicts of the same seeds and hostile cases (without bombs) against the code in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "INTEGRATIONSATLAS_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _BASELINE, str(HERE.parent / "tests"), str(HERE)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=src,
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else f"failed: {out.stderr[-300:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--big", action="store_true", help="full-size bombs (3.2 GB Shapefile, 2 GB sheet, 1 GB .prj)")
    parser.add_argument("--rounds", type=int, default=10, help="concurrency rounds")
    parser.add_argument("--race-ids", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--cli-sample", type=int, default=40, help="mutants also run through the CLI")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="checkout of the code before hardening (e.g. /work/main): its verdicts on the seeds "
        "and hostile cases (without bombs) are reported alongside",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="fuzz-import-") as tmp:
        folder = Path(tmp)
        settings = seeded_settings(folder / "home")
        t0 = time.perf_counter()
        seeds = fc.seeds(folder / "seeds")
        hostile = fc.hostile(folder / "hostile", big=args.big)
        mutants = fc.mutants(seeds, folder / "mutants", args.mutants, rng)
        build_s = time.perf_counter() - t0
        bombs = [c for c in hostile if c.kind == "bomb"]
        cases = seeds + [c for c in hostile if c.kind != "bomb"] + mutants

        t0 = time.perf_counter()
        outcomes = [fc.run_case(c, settings) for c in cases]
        fuzz_s = time.perf_counter() - t0
        fuzz_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        verdicts = collections.Counter(o.verdict for o in outcomes)
        by_kind = collections.Counter((o.case.kind, o.verdict) for o in outcomes)
        bad = [o for o in outcomes if not o.ok]

        # the CLI in fresh processes: every bomb and a sample of the rest; exit code and peak memory
        cli_cases = (
            bombs
            + [c for c in hostile if c.kind != "bomb"][:10]
            + rng.sample(mutants, min(args.cli_sample, len(mutants)))
        )
        cli_rows = []
        cli_bad = []
        sizes: dict[str, int] = {}
        for c in cli_cases:
            code, err, rss, secs = run_cli(c.path, folder / "cli_home")
            cli_rows.append((c, code, rss, secs))
            sizes[c.name] = c.path.stat().st_size
            if code not in (0, 2) or "Traceback" in err or (code == 2 and c.name not in err):
                cli_bad.append(f"{c.name}: exit {code}: {err[-400:]}")
            if c.expect == "refuse" and code != 2:
                cli_bad.append(f"{c.name}: expected a refusal, exit {code}")
        bomb_rows = [(c, code, rss, secs) for c, code, rss, secs in cli_rows if c.kind == "bomb"]
        peak_cli = max(rss for _, _, rss, _ in cli_rows)

        one_winner, duplicates, odd = race(folder, folder / "race_home", args.rounds, args.race_ids)
    before = baseline(args.baseline) if args.baseline else ""

    crashes = verdicts.get("crash", 0)
    silent = verdicts.get("silent", 0)
    lines = [
        "## Importer fuzzing",
        "",
        f"Machine: {machine()}",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/fuzz_import.py --mutants {args.mutants} --seed {args.seed}"
        f"{' --big' if args.big else ''} --rounds {args.rounds}"
        f"{f' --baseline {args.baseline}' if args.baseline else ''}`",
        "",
        f"- cases tried in process: **{len(cases)}** ({len(seeds)} valid seeds in 7 formats, "
        f"{len(cases) - len(seeds) - len(mutants)} hostile cases with a known defect, {len(mutants)} byte mutants); "
        f"corpus built in {build_s:.1f} s, judged in {fuzz_s:.0f} s, peak RSS of the fuzzing process "
        f"{fuzz_rss:.0f} MB",
        f"- verdicts: {dict(sorted(verdicts.items()))}",
        *(
            [f"- baseline ({args.baseline}, same seeds and hostile cases without the bombs): {before}"]
            if before
            else []
        ),
        f"- **crashes (traceback): {crashes}**; **silent acceptances (wrong data stored): {silent}**; "
        f"store changed by a refusal: {verdicts.get('store_changed', 0)}; message without the file name or with a "
        f"server path: {verdicts.get('bad_message', 0)}; valid seeds refused: {verdicts.get('false_refusal', 0)}",
        "- by kind: " + ", ".join(f"{k}/{v}: {n}" for (k, v), n in sorted(by_kind.items())),
        f"- CLI in fresh processes: {len(cli_rows)} runs, exit codes "
        f"{dict(collections.Counter(code for _, code, _, _ in cli_rows))}, peak RSS {peak_cli:.0f} MB, "
        f"problems: {len(cli_bad)}",
        "",
        "| bomb | file size | exit | peak RSS | time |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {c.name} | {sizes[c.name] / 1e6:.1f} MB | {code} | {rss:.0f} MB | {secs:.1f} s |"
            for c, code, rss, secs in bomb_rows
        ],
        "",
        f"- concurrency: {args.rounds} rounds of two processes importing the same {args.race_ids} ids at the same "
        f"moment: exactly one winner in **{one_winner}/{args.rounds}** rounds, **{duplicates} duplicate ids** "
        f"in the store",
    ]
    for o in bad[:20]:
        lines.append(f"  - {o.verdict} {o.case.name}: {o.detail[:300]}")
    for text in (cli_bad + odd)[:20]:
        lines.append(f"  - {text[:400]}")
    write_section("\n".join(lines) + "\n", HERE / "results" / "fuzz_import.md")


if __name__ == "__main__":
    main()
