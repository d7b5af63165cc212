"""Run importer cases in isolated child processes: exit code, time and peak memory of each, judged.

A *worker* is a fresh interpreter that imports the project once and then runs
the cases it is given one by one, each in a child forked for it (cheap: the
imports are shared). The child gets an address-space limit (``RLIMIT_AS``:
the worker's own size plus :data:`MEMORY_LIMIT`), its stderr goes to a file,
and it runs the importer the way the CLI does (:func:`run_entry`): the CLI's
``main`` for ``import``/``zensus``/``population``, the loaders behind
``--gtfs``/``--osm`` with the CLI's mapping of errors to exit codes for GTFS
and OSM (an :class:`~geo.errors.IntegrationsatlasError` is exit 2, anything
else a traceback and exit 1). The worker kills a child after
:data:`TIME_LIMIT` seconds (a *hang*), reads its peak resident memory from
``wait4`` and judges the outcome (:func:`judge`):

* ``refused`` (exit 2, German message naming the file, store unchanged) and
  ``accepted`` (exit 0, and for a known valid file the right content) are fine;
* ``crash`` (any other exit, a traceback, a signal), ``hang`` (timeout),
  ``memory`` (peak RSS over :data:`MEMORY_LIMIT`), ``silent`` (a file the
  generator knows is invalid imported with exit 0), ``false_refusal`` (a valid
  file refused), ``store_changed`` and ``bad_message`` are failures.

Used by ``tests/test_importer_regressions.py``, ``tests/test_importers_fuzz.py``
and ``benchmarks/fuzz_import.py --importers``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Wall-clock limit of one case in seconds.
TIME_LIMIT = 60.0
#: Memory limit of one case: peak resident memory in bytes (and the growth of its address space).
MEMORY_LIMIT = 2 * 1024**3
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Job:
    """One input and what must happen to it.

    ``importer``: ``facility``, ``boundary``, ``zensus``, ``population``,
    ``gtfs`` or ``osm``. ``expect``: ``accept`` (a valid file: exit 0),
    ``refuse`` (a known defect: exit 2) or ``any`` (a byte mutant: exit 0 or
    2). ``shown`` is the name the message must contain. ``check`` holds what
    an accepted file must give (e.g. ``{"rows": 2}``), judged by :func:`judge`.
    """

    name: str
    importer: str
    paths: tuple[str, ...]
    expect: str
    kind: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        return Path(self.paths[0]).name


@dataclass(frozen=True)
class Outcome:
    """What happened to one job."""

    job: Job
    verdict: str
    code: int | None
    seconds: float
    rss_mb: float
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in ("refused", "accepted")


# --- inside the child ---------------------------------------------------------------------------


def _loader(job: Job) -> dict[str, Any]:
    """Run a GTFS or OSM job's loaders; return a summary (raises the project's errors)."""
    from datetime import date

    path = Path(job.paths[0])
    if job.importer == "gtfs":
        from geo.sources.gtfs import read_gtfs

        day = date.fromisoformat(job.options.get("day", "2026-03-10"))
        window = tuple(job.options.get("window", (7 * 3600, 9 * 3600)))
        tt = read_gtfs(path, day=day, window=(int(window[0]), int(window[1])))
        return {"trips": tt.n_trips, "stops": tt.n_stops, "events": tt.n_stop_times}
    from geo.sources.osm import CATEGORIES, read_osm_xml
    from geo.sources.osm_background import background_from_file
    from geo.sources.osm_pbf import read_street_network

    net = read_street_network(path, "walk")  # default limits (those of Settings)
    background = background_from_file(path)
    out = {"nodes": net.n_nodes, "edges": int(net.matrix.nnz), "background": len(background)}
    if not path.name.lower().endswith(".pbf"):
        facilities = read_osm_xml(path, list(CATEGORIES.values()))
        out["features"] = len(facilities)
    return out


def run_entry(job: Job, home: Path, summary_file: Path) -> int:
    """Run one job as the CLI would and return its exit code (called in the child)."""
    os.environ["INTEGRATIONSATLAS_HOME"] = str(home)
    os.environ["INTEGRATIONSATLAS_OFFLINE"] = "1"
    if job.importer in ("gtfs", "osm"):
        from geo.errors import IntegrationsatlasError

        try:
            summary = _loader(job)
        except IntegrationsatlasError as exc:  # what integrationsatlas.cli._entry.main does
            print(f"Fehler: {exc}", file=sys.stderr)
            return 2
        summary_file.write_text(json.dumps(summary), encoding="utf-8")
        return 0
    from integrationsatlas.cli import main

    if job.importer in ("facility", "boundary"):
        layer = job.options.get("layer", "kita" if job.importer == "facility" else "gemeinde")
        argv = ["import", job.paths[0], "--layer", layer, "--json"]
        if job.importer == "boundary":
            argv += ["--mode", "replace"]
    elif job.importer == "zensus":
        argv = ["zensus", *job.paths, "--json"]
    else:
        argv = ["population", job.paths[0], "--json"]
    with summary_file.open("w", encoding="utf-8") as out:
        saved = sys.stdout
        sys.stdout = out
        try:
            return int(main(argv))
        finally:
            sys.stdout = saved


# --- the worker ------------------------------------------------------------------------------------


def _vm_size() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _batches(importer: str, home: Path) -> list[tuple[str, bool]]:
    """The store's batches (id, active): what a refusal must leave unchanged."""
    if importer in ("gtfs", "osm"):
        return []
    from geo.settings import Settings
    from geo.store import DataStore

    settings = Settings().with_home(home)
    if not settings.store_path.exists():
        return []
    return [(b.batch_id, b.active) for b in DataStore(settings.store_path).batches()]


def _undo(home: Path, before: list[tuple[str, bool]]) -> None:
    """Deactivate the batches a case stored and re-activate what it replaced (keep the store comparable)."""
    from geo.settings import Settings
    from geo.store import DataStore

    store = DataStore(Settings().with_home(home).store_path)
    was_active = {b for b, active in before if active}
    for info in store.batches():
        if info.active and info.batch_id not in was_active:
            store.deactivate(info.batch_id)
        elif not info.active and info.batch_id in was_active:
            store.restore(info.batch_id)


def _run_one(job: Job, home: Path, scratch: Path, memory_limit: int, time_limit: float) -> Outcome:
    err = scratch / "stderr.txt"
    summary = scratch / "summary.json"
    summary.unlink(missing_ok=True)
    before = _batches(job.importer, home)
    limit_as = _vm_size() + memory_limit
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: limits, then the importer; never returns
        code = 1
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
            fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 2)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            sys.stderr = os.fdopen(2, "w", encoding="utf-8", buffering=1)
            code = run_entry(job, home, summary)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stderr.flush()
            finally:
                os._exit(code)
    deadline = t0 + time_limit
    status, usage, hung = 0, None, False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            hung = True
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - t0
    rss_mb = (usage.ru_maxrss / 1024) if usage is not None else 0.0
    code = None if hung else os.waitstatus_to_exitcode(status)
    message = err.read_text(encoding="utf-8", errors="replace") if err.exists() else ""
    printed = summary.read_text(encoding="utf-8", errors="replace") if summary.exists() else ""
    if code == 2:
        message += printed  # ``--json`` puts the problems of a refused import on stdout
    result = json.loads(printed or "{}") if code == 0 else {}
    if code == 0:
        result = _inspect(job, home, before, result)
    after = _batches(job.importer, home)
    verdict = judge(job, code, hung, rss_mb, message, result, before, after, memory_limit)
    if code == 0 and after != before:
        _undo(home, before)
    if verdict == "silent":  # what was wrong with the accepted import
        wrong = {
            k: result.get(k.removesuffix("_min"))
            for k, want in job.check.items()
            if not _matches(want, result.get(k.removesuffix("_min")), k)
        }
        message += f"\nimplausible: {result.get('implausible', [])}; expected {job.check}, got {wrong}"
    return Outcome(job, verdict, code, seconds, rss_mb, message.strip()[-600:])


def judge(
    job: Job,
    code: int | None,
    hung: bool,
    rss_mb: float,
    message: str,
    result: dict[str, Any],
    before: list[tuple[str, bool]],
    after: list[tuple[str, bool]],
    memory_limit: int = MEMORY_LIMIT,
) -> str:
    """The verdict of one run (see the module docstring)."""
    if hung:
        return "hang"
    if code not in (0, 2) or "Traceback" in message:
        return "crash"
    if rss_mb * 1024 * 1024 > memory_limit:
        return "memory"
    if code == 2:
        if after != before:
            return "store_changed"
        names = [Path(p).name for p in job.paths]
        scrubbed = message
        for path, name in zip(job.paths, names, strict=True):
            scrubbed = scrubbed.replace(path, name)
        if not any(name in message for name in names) or "/tmp/" in scrubbed:
            return "bad_message"
        return "false_refusal" if job.expect == "accept" else "refused"
    if job.expect == "refuse":
        return "silent"
    if result.get("implausible") or not all(
        _matches(want, result.get(key.removesuffix("_min")), key) for key, want in job.check.items()
    ):
        return "silent"
    return "accepted"


def _matches(want: Any, got: Any, key: str) -> bool:
    """Whether a summary value is what the generator expects (``*_min``: at least)."""
    if key.endswith("_min"):
        return isinstance(got, int | float) and got >= want
    if isinstance(want, float) and isinstance(got, int | float):
        return abs(got - want) <= 1e-6 * max(1.0, abs(want))
    return bool(got == want)


def _inspect(job: Job, home: Path, before: list[tuple[str, bool]], result: dict[str, Any]) -> dict[str, Any]:
    """What a facility or boundary import stored, judged in the worker: rows that cannot be right (garbled
    text, outside NRW, numbers out of range), or rows other than a valid seed's."""
    if job.importer not in ("facility", "boundary"):
        return result
    import fuzz_corpus as fc

    from geo.settings import Settings
    from geo.store import DataStore

    store = DataStore(Settings().with_home(home).store_path)
    old = {b for b, _ in before}
    new = [b.batch_id for b in store.batches() if b.active and b.batch_id not in old]
    layer = job.options.get("layer", "kita" if job.importer == "facility" else "gemeinde")
    data = store.read_layer(layer)
    if data is None or not new:
        return {**result, "implausible": ["nothing stored"]}
    data = data[data["batch_id"].isin(new)].reset_index(drop=True)
    if job.importer == "boundary":
        reasons = [] if data.geometry.is_valid.all() else ["invalid geometry"]
        reasons += fc.implausible_rows(data.assign(geometry=data.geometry.representative_point()).drop(columns="ags"))
        names, got = job.options.get("names"), sorted(data["name"])
        # a byte mutant may turn a name into another valid one (»1e999Attendorn«): then only the count must hold
        if names is not None and (len(got) != len(names) if job.expect == "any" else got != names):
            reasons.append(f"names {got}")
        return {**result, "implausible": reasons}
    reasons = fc.implausible_rows(data)
    if job.expect == "accept" and "rows" in job.options:
        reasons += fc.correct(data, tuple(tuple(r) for r in job.options["rows"]))
    return {**result, "implausible": reasons}


def serve() -> None:
    """The worker loop: one job (JSON) per stdin line, one outcome (JSON) per stdout line."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # import once, before forking: every child shares these modules
    import geo.importing
    import geo.sources.destatis
    import geo.sources.gtfs
    import geo.sources.osm
    import geo.sources.osm_background
    import geo.sources.zensus  # noqa: F401
    from geo.settings import Settings
    from integrationsatlas.cli import build_parser

    build_parser()
    try:  # cached in the worker, shared by every child (absent in older code: --baseline)
        from geo.importing.locate import nrw_area

        nrw_area(Settings())
    except ImportError:
        pass
    out = sys.stdout
    sys.stdout = sys.stderr
    print("READY", file=out, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        job = Job(**{**request["job"], "paths": tuple(request["job"]["paths"])})
        scratch = Path(tempfile.mkdtemp(prefix="fuzz-child-"))
        try:
            outcome = _run_one(
                job,
                Path(request["home"]),
                scratch,
                int(request.get("memory_limit", MEMORY_LIMIT)),
                float(request.get("time_limit", TIME_LIMIT)),
            )
        finally:
            for f in scratch.iterdir():
                f.unlink()
            scratch.rmdir()
        print(json.dumps({**asdict(outcome), "job": asdict(job)}), file=out, flush=True)


class Worker:
    """A worker process (see :func:`serve`); ``run`` sends jobs and yields their outcomes."""

    def __init__(
        self, home: Path, *, memory_limit: int = MEMORY_LIMIT, time_limit: float = TIME_LIMIT, src: Path = ROOT
    ) -> None:
        self.home = home
        self.memory_limit = memory_limit
        self.time_limit = time_limit
        env = {
            **os.environ,
            "PYTHONPATH": f"{src}{os.pathsep}{HERE}",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "INTEGRATIONSATLAS_OFFLINE": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import fuzz_runner; fuzz_runner.serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            cwd=src,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if ready.strip() != "READY":
            raise RuntimeError(f"fuzz worker did not start: {ready!r}")

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        for job in jobs:
            request = {
                "job": asdict(job),
                "home": str(self.home),
                "memory_limit": self.memory_limit,
                "time_limit": self.time_limit,
            }
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answer = json.loads(self.proc.stdout.readline())
            answer.pop("job")
            yield Outcome(job=job, **answer)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def failures(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per outcome that is not fine (for assertion messages)."""
    return [
        f"{o.verdict} {o.job.importer}/{o.job.name} (exit {o.code}, {o.seconds:.1f} s, {o.rss_mb:.0f} MB): "
        f"{o.message[-300:]}"
        for o in outcomes
        if not o.ok
    ]
