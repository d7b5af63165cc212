"""Fuzz the importer: seeds of every format, hostile cases, byte mutants, bombs and concurrent imports.

Invariant for every case: ``integrationsatlas import`` refuses with exit 2 and a
German message naming the file (and row/feature/column where there is one),
or the import is correct; never a traceback, the store unchanged after every
refusal, memory bounded. Concurrent imports of the same ids: exactly one wins.

Usage::

    .venv/bin/python benchmarks/fuzz_import.py                    # 2,000 mutants, scaled-down bombs
    .venv/bin/python benchmarks/fuzz_import.py --mutants 5000 --big  # the full-size bombs of the report
    .venv/bin/python benchmarks/fuzz_import.py --importers all --per-importer 2000 --big --baseline /work/main

Writes ``benchmarks/results/fuzz_import.md``. With ``--importers`` it runs the
generated corpus of every importer instead (Zensus, GTFS, population, OSM,
Gemeinde boundaries, facilities: ``tests/fuzz_*.py``), each file in an
isolated child with a 60 s timeout and a 2 GB limit (``tests/fuzz_runner.py``),
and writes ``benchmarks/results/fuzz_importers.md``.
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


IMPORTERS = ("zensus", "gtfs", "population", "osm", "boundary", "facility")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def importer_bombs(folder: Path, rng: random.Random) -> list:
    """The bombs of the issue at full size: 2 GB ``stop_times.txt``, 3 GB ``.osm.bz2``, 2 GB XLSX sheet."""
    import fuzz_gtfs
    import fuzz_osm
    import fuzz_population

    folder.mkdir(parents=True, exist_ok=True)
    return [
        fuzz_gtfs.bomb(folder, rng, "stop_times_2gb", size=2 << 30),
        fuzz_osm.bz2_bomb(folder, rng, "extract_3gb", size=3 << 30),
        fuzz_population.xlsx_bomb(folder, rng, "einwohner_2gb", size=2 << 30),
    ]


def run_importers(args: argparse.Namespace) -> None:
    """Every importer's generated corpus in isolated children: crashes, hangs, silent acceptances, time, memory."""
    import importlib

    from fuzz_runner import Worker

    names = IMPORTERS if args.importers == "all" else tuple(args.importers.split(","))
    rows, bad_lines = [], []
    with tempfile.TemporaryDirectory(prefix="fuzz-importers-") as tmp:
        folder = Path(tmp)
        for name in names:
            module = importlib.import_module({"boundary": "fuzz_boundaries"}.get(name, f"fuzz_{name}"))
            rng = random.Random(f"{args.seed}-{name}")
            t0 = time.perf_counter()
            jobs = module.generate(folder / name, args.per_importer, rng)
            build_s = time.perf_counter() - t0
            load_before = _load()
            t0 = time.perf_counter()
            with Worker(folder / f"home-{name}") as worker:
                outcomes = list(worker.run(jobs))
            run_s = time.perf_counter() - t0
            verdicts = collections.Counter(o.verdict for o in outcomes)
            codes = collections.Counter(o.code for o in outcomes)
            kinds = collections.Counter(o.job.expect for o in outcomes)
            rows.append(
                f"| {name} | {len(outcomes)} ({kinds['accept']} valid, {kinds['refuse']} with a defect, "
                f"{kinds['any']} mutants) | {codes.get(0, 0)} | {codes.get(2, 0)} | **{verdicts['crash']}** | "
                f"**{verdicts['hang']}** | **{verdicts['silent']}** | "
                f"{sum(verdicts[v] for v in ('false_refusal', 'store_changed', 'bad_message', 'memory'))} | "
                f"{max(o.seconds for o in outcomes):.1f} s | {max(o.rss_mb for o in outcomes):.0f} MB | "
                f"{build_s:.0f} s + {run_s:.0f} s | {load_before} → {_load()} |"
            )
            for o in outcomes:
                if not o.ok:
                    bad_lines.append(f"  - {o.verdict} {name}/{o.job.name} ({o.job.kind}): {o.message[-300:]!r}")
            print(rows[-1], flush=True)
        bomb_rows = []
        if args.big:
            bombs = importer_bombs(folder / "bombs", random.Random(args.seed))
            with Worker(folder / "home-bombs") as worker:
                for o in worker.run(bombs):
                    size = sum(Path(p).stat().st_size for p in o.job.paths)
                    bomb_rows.append(
                        f"| {o.job.importer}: {o.job.name} | {size / 1e6:.1f} MB | {o.code} | {o.verdict} | "
                        f"{o.rss_mb:.0f} MB | {o.seconds:.1f} s |"
                    )
                    if not o.ok:
                        bad_lines.append(f"  - {o.verdict} bomb {o.job.name}: {o.message[-300:]!r}")
    before = baseline_regressions(args.baseline) if args.baseline else ""
    lines = [
        "## Importer fuzzing: every importer",
        "",
        f"Machine: {machine()}",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/fuzz_import.py --importers {args.importers} "
        f"--per-importer {args.per_importer} --seed {args.seed}{' --big' if args.big else ''}"
        f"{f' --baseline {args.baseline}' if args.baseline else ''}`",
        "",
        "Each file in a child process forked for it (address space limited to the worker's size + 2 GB, killed "
        "after 60 s). Columns: exit codes; **crashes** (any exit but 0/2, a traceback, a signal), **hangs** "
        "(> 60 s), **silent acceptances** (a file the generator knows is invalid, or a valid one imported with "
        "the wrong content, imported with exit 0); other failures (valid file refused, store changed by a "
        "refusal, message without the file name, > 2 GB); the slowest file, the highest peak RSS (the worker's "
        "pages count: about 200–270 MB before any work), build + run time, load average (1/5 min) before → after.",
        "",
        "| importer | files | exit 0 | exit 2 | crashes | hangs | silent | other | max time | max RSS | time | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        *(
            [
                "| bomb (full size) | file | exit | verdict | peak RSS | time |",
                "|---|---:|---:|---|---:|---:|",
                *bomb_rows,
                "",
            ]
            if bomb_rows
            else []
        ),
        *([f"- baseline ({args.baseline}), the 42 regression cases of the issue: {before}", ""] if before else []),
        *(bad_lines[:40] or ["No failures."]),
    ]
    write_section("\n".join(lines) + "\n", HERE / "results" / "fuzz_importers.md")


_BASELINE_REGRESSIONS = (
    "import collections, json, random, sys, tempfile\n"
    "from pathlib import Path\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "import test_importer_regressions as t\n"
    "from fuzz_runner import Worker\n"
    "folder = Path(tempfile.mkdtemp(prefix='fuzz-baseline-'))\n"
    "rng = random.Random(20261206)\n"
    "jobs = [m(folder, rng, f'case{k:02d}') for k, (f, m, _) in enumerate(t.CASES)]\n"
    "with Worker(folder / 'home', src=Path(sys.argv[2])) as w:\n"
    "    print(json.dumps(collections.Counter(o.verdict for o in w.run(jobs))))\n"
)


def baseline_regressions(src: Path) -> str:
    """Verdicts of the issue's regression cases against the code in ``src`` (e.g. ``/work/main``)."""
    env = {**os.environ, "PYTHONPATH": f"{HERE.parent}{os.pathsep}{HERE.parent / 'tests'}"}
    out = subprocess.run(
        [sys.executable, "-c", _BASELINE_REGRESSIONS, str(HERE.parent / "tests"), str(src)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
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
    parser.add_argument(
        "--importers",
        default=None,
        help="run the generated corpus of these importers instead (comma-separated, or 'all': "
        + ", ".join(IMPORTERS)
        + ")",
    )
    parser.add_argument("--per-importer", type=int, default=2000, help="files per importer with --importers")
    args = parser.parse_args()
    if args.importers:
        run_importers(args)
        return
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
