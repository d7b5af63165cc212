"""Run a batch plan as tasks on dask.distributed.

:func:`run_batch` expands a plan (:mod:`integrationsatlas.batch.plan`) into
requests and answers each on a dask cluster with the one pipeline
(:func:`integrationsatlas.results.answer`):

* **cluster**: without a scheduler address a ``LocalCluster`` of worker
  processes on this machine; with ``tcp://HOST:PORT`` an existing cluster
  (``dask scheduler`` and ``dask worker`` processes, or any deployment of them).
  Workers need the same data paths (OSM, GTFS, the store) as the client.
* **inputs once**: the network (and timetable) of each group of requests that
  share them (:func:`integrationsatlas.pipeline.costs.inputs_key`) is loaded
  by one task; the tasks of the group depend on it, so dask moves it to each
  worker once and keeps it there. A land-scale extract's tiles are built on
  the client before anything is submitted (one streaming pass, not one per worker).
* **results**: each task writes ``ergebnisse/<key>.parquet`` atomically and
  never twice (:class:`~integrationsatlas.batch.folder.BatchFolder`); a rerun
  skips the tasks whose file exists.
* **failures**: a worker that dies costs only the tasks it was running –
  the scheduler runs them again on another worker (loader tasks are recomputed
  from their lineage). A task whose data is wrong (an
  :class:`~geo.errors.IntegrationsatlasError`) is reported in the summary
  with its German message and tried again on the next run.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.errors import DataError, IntegrationsatlasError, SourceUnavailableError
from geo.settings import Settings
from integrationsatlas.batch.folder import BatchFolder
from integrationsatlas.batch.plan import BatchPlan, Task
from integrationsatlas.pipeline.costs import inputs_key, measure_inputs, provide_inputs
from integrationsatlas.results import answer, read_summary, save_answer

logger = logging.getLogger(__name__)

#: Memory limit of each worker of a local cluster: dask's share of the machine (its memory ÷ workers). A
#: Land-wide walking task needs about 3 GiB, walk + public transport for the Land more than 4 GiB.
LOCAL_WORKER_MEMORY = "auto"
#: Seconds to wait for an existing scheduler.
CONNECT_TIMEOUT_S = 30
#: Seconds without any worker at the scheduler after which the unfinished tasks fail (rather than wait for ever):
#: a local cluster whose nanny could not restart a killed worker, or every remote worker gone.
WORKERLESS_S = 60.0
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class BatchOutcome:
    """What a batch run did.

    Attributes
    ----------
    total
        Tasks of the plan.
    skipped
        Finished in an earlier run (not submitted again).
    done
        Finished in this run.
    failed
        Key → summary row with the German ``message``, for tasks that failed.
    seconds
        Wall time of the run.
    workers
        Workers of the cluster at the start.
    """

    total: int
    skipped: int
    done: int
    failed: dict[str, dict[str, Any]]
    seconds: float
    workers: int


def run_batch(
    plan: BatchPlan,
    out: Path,
    settings: Settings,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: Progress | None = None,
    worker_memory: str = LOCAL_WORKER_MEMORY,
) -> BatchOutcome:
    """Run every unfinished task of ``plan`` and write the results and summary into ``out``.

    Parameters
    ----------
    plan
        The parsed plan.
    out
        Output folder (created).
    settings
        Paths of data and caches; with ``[[data]]`` in the plan the batch uses
        its own store in ``out/daten`` instead of the user's.
    scheduler
        Address of an existing dask scheduler (``tcp://HOST:PORT``); ``None``
        starts a local cluster.
    n_workers
        Worker processes of the local cluster (default: the number of cores).
    progress
        Called with ``(finished, total, failed)`` after each task.
    worker_memory
        Memory limit of each local worker (``"8GiB"``; ``"auto"``: the
        machine's memory ÷ workers). A task whose workers die again and again
        (above all: over this limit) fails alone; the others go on.

    Returns
    -------
    BatchOutcome

    Raises
    ------
    IntegrationsatlasError
        Invalid plan or data import, or an unreachable scheduler.
    """
    t0 = time.perf_counter()
    folder = BatchFolder(out)
    settings = folder.settings_for(settings, bool(plan.data))
    for item in plan.data:
        item.apply(settings)
    tasks = plan.tasks()
    done = folder.done_keys()
    todo = [t for t in tasks if t.key not in done]
    skipped = len(tasks) - len(todo)
    failures: dict[str, dict[str, Any]] = {}
    finished = 0
    workers = 0
    if todo:
        prepare_networks(settings, todo)
        with batch_client(scheduler, n_workers, worker_memory) as client:
            workers = len(client.scheduler_info().get("workers", {}))
            futures = submit(client, todo, settings, folder)
            task_of = {future.key: task for future, task in zip(futures, todo, strict=True)}
            from distributed.scheduler import KilledWorker

            for future, orphaned in as_finished(client, futures, WORKERLESS_S):
                try:
                    if orphaned:  # no worker left to run it
                        raise WorkerlessError
                    row = future.result()
                except (KilledWorker, WorkerlessError) as exc:  # workers died (memory): this task fails, others go on
                    row = failure_row(task_of[future.key], killed_message(exc, worker_memory, scheduler), "")
                if row.get("message"):
                    failures[row["key"]] = row
                finished += 1
                if progress is not None:
                    progress(skipped + finished, len(tasks), len(failures))
    folder.sweep_partials()  # every task has ended: what a killed worker left half-written goes
    folder.write_summary(failures)
    return BatchOutcome(
        total=len(tasks),
        skipped=skipped,
        done=finished - len(failures),
        failed=failures,
        seconds=time.perf_counter() - t0,
        workers=workers,
    )


def submit(client: Any, tasks: list[Task], settings: Settings, folder: BatchFolder) -> list[Any]:
    """Submit one loader task per group of shared inputs and one task per request (depending on its loader)."""
    run = uuid.uuid4().hex[:8]
    loaders: dict[tuple[Any, ...], Any] = {}
    futures = []
    for task in tasks:
        key = inputs_key(settings, task.request)
        inputs = None
        if key is not None:
            if key not in loaders:
                loaders[key] = client.submit(
                    measure_inputs, settings, task.request, key=f"netz-{run}-{len(loaders)}", pure=False
                )
            inputs = loaders[key]
        futures.append(
            client.submit(
                run_task,
                task,
                settings,
                str(folder.results),
                inputs,
                key=f"aufgabe-{run}-{task.key}",
                pure=False,
            )
        )
    return futures


def run_task(task: Task, settings: Settings, results: str, inputs: dict[str, Any] | None) -> dict[str, Any]:
    """Answer one task on a worker and write its result; returns its summary row.

    A task whose file exists already (written before a worker died, or by a
    concurrent run) is not computed again. Data problems are returned as a
    row with ``message``; anything else is a bug and raises.
    """
    path = Path(results) / f"{task.key}.parquet"
    if path.exists():
        return read_summary(path)
    if inputs:
        provide_inputs(settings, task.request, inputs)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        result = answer(settings, task.request)
    except IntegrationsatlasError as exc:
        return failure_row(task, str(exc).splitlines()[0], worker)
    extra = {"scenario": task.scenario, "seconds": round(time.perf_counter() - t0, 3), "worker": worker}
    save_answer(result, path, extra)
    return read_summary(path)


def failure_row(task: Task, message: str, worker: str) -> dict[str, Any]:
    """The summary row of a task that failed, with its German ``message``."""
    return {
        "key": task.key,
        "scenario": task.scenario,
        "area": task.request.area.code,
        "layer": task.request.layer,
        "mode": task.request.mode or "luftlinie",
        "threshold": task.request.threshold,
        "worker": worker,
        "message": message,
    }


class WorkerlessError(Exception):
    """A task was left without any worker to run it for :data:`WORKERLESS_S` seconds."""


def as_finished(client: Any, futures: list[Any], patience: float) -> Iterator[tuple[Any, bool]]:
    """The futures as they finish, then, after ``patience`` seconds without any worker, those left.

    Yields ``(future, False)`` for each finished future and, once the
    scheduler has had no worker for ``patience`` seconds, ``(future, True)``
    for each one left (orphaned: nothing would ever run it). dask re-runs a
    task whose worker died on another worker, and a local cluster's nanny
    restarts a killed worker; seen in the test suite, that restart may never
    come, and a plain ``as_completed`` then waits for ever.
    """
    from distributed import as_completed

    queue = as_completed(futures)
    alone_since: float | None = None
    while not queue.is_empty():
        if queue.has_ready():
            for future in queue.next_batch(block=False):
                yield future, False
            continue
        if client.nthreads():
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > patience:
            logger.warning("Seit %.0f s kein Worker am Scheduler: die offenen Aufgaben schlagen fehl.", patience)
            for future in futures:
                if not future.done():
                    yield future, True
            return
        time.sleep(0.5)


def killed_message(exc: Exception, worker_memory: str, scheduler: str | None) -> str:
    """German: the task's workers died (or none is left); what to change."""
    limit = "die Speichergrenze der Worker" if scheduler else f"die Speichergrenze je Worker ({worker_memory})"
    more = "den Workern mehr Speicher geben" if scheduler else "mit --worker-memory mehr erlauben (oder --workers 1)"
    if isinstance(exc, WorkerlessError):
        return (
            f"Seit {WORKERLESS_S:.0f} s ist kein Worker mehr da, der diese Aufgabe rechnen könnte: die Worker sind "
            f"beendet worden, meist weil sie {limit} überschritten haben. Bitte {more} oder das Gebiet teilen; "
            "ein neuer Lauf rechnet nur die offenen Aufgaben."
        )
    tries = getattr(exc, "allowed_failures", None)
    times = f"{tries + 1}-mal" if isinstance(tries, int) else "mehrmals"
    return (
        f"Die Worker dieser Aufgabe sind {times} beendet worden, meist weil sie {limit} überschritten haben. "
        f"Bitte {more} oder das Gebiet teilen."
    )


def prepare_networks(settings: Settings, tasks: list[Task]) -> None:
    """Build the tiles of every land-scale extract the tasks use, here, before any worker needs them."""
    from geo.sources.network_tiles import is_land_scale
    from geo.sources.streets import tile_set

    wanted = {
        (t.request.travel_mode.network, Path(str(t.request.osm_file)))
        for t in tasks
        if t.request.uses_time and t.request.osm_file is not None
    }
    for network, osm in sorted(wanted):
        if osm.is_file() and is_land_scale(osm, settings):
            tile_set(network, settings, osm)


@contextmanager
def batch_client(
    scheduler: str | None, n_workers: int | None = None, worker_memory: str = LOCAL_WORKER_MEMORY
) -> Iterator[Any]:
    """A dask client: of an existing scheduler, or of a local cluster of worker processes (closed afterwards).

    Raises
    ------
    SourceUnavailableError
        If the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if logging.getLogger().getEffectiveLevel() > logging.INFO:  # dask's own INFO lines only with --verbose
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise SourceUnavailableError(
                f"Dask-Scheduler {scheduler} nicht erreichbar ({exc}). Läuft »dask scheduler« dort, und ist die "
                "Adresse richtig (tcp://HOST:PORT)?"
            ) from exc
        try:
            if not client.scheduler_info().get("workers"):
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            yield client
        except TimeoutError as exc:
            raise SourceUnavailableError(
                f"Am Dask-Scheduler {scheduler} ist kein Worker angemeldet. Bitte »dask worker {scheduler}« starten."
            ) from exc
        finally:
            client.close()
        return
    workers = n_workers or os.cpu_count() or 1
    if workers < 1:
        raise DataError("Die Zahl der Worker muss mindestens 1 sein.")
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=worker_memory,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def terminal_progress(stream: Any = None) -> Progress:
    """A progress bar on ``stream`` (stderr): one line, rewritten in a terminal, every tenth task otherwise."""
    out = stream or sys.stderr
    tty = bool(getattr(out, "isatty", lambda: False)())
    width = 30

    def show(done: int, total: int, failed: int) -> None:
        if not tty and done != total and done % max(1, total // 10):
            return
        filled = int(width * done / max(total, 1))
        bar = "█" * filled + "·" * (width - filled)
        extra = f", {failed} mit Fehler" if failed else ""
        end = "\n" if (done == total or not tty) else ""
        print(f"\r[{bar}] {done}/{total} Aufgaben{extra}", end=end, file=out, flush=True)

    return show
