"""A batch on a real dask cluster: ``dask scheduler`` + two ``dask worker`` processes on 127.0.0.1.

One worker is killed (SIGKILL) while the batch runs: the batch still finishes
every task exactly once (its tasks run again on the other worker), and a rerun
computes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from geo.settings import PROJECT_ROOT
from integrationsatlas.results import read_summary

pytestmark = pytest.mark.slow

PLAN = """
[plan]
name = "Cluster-Test"
areas = "kreise"
layers = ["ki"]
modes = ["luftlinie"]
thresholds = [5]
"""
N_TASKS = 53


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ, INTEGRATIONSATLAS_HOME=str(home), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def wait_for_workers(address: str, n: int, timeout_s: float = 90.0) -> None:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(n, timeout=timeout_s)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, subprocess.Popen[bytes]]]]:
    """A scheduler and two workers (without nanny, so killing the process kills the worker)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = environment(tmp_path / "home")
    dask = [sys.executable, "-m", "dask"]
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        procs["scheduler"] = subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(logs / "scheduler.log").open("wb"),
        )
        for name in ("w1", "w2"):
            procs[name] = subprocess.Popen(
                [*dask, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1"]
                + ["--no-dashboard", "--memory-limit", "2GiB"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(logs / f"{name}.log").open("wb"),
            )
        wait_for_workers(address, 2)
        yield address, procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_batch_survives_a_killed_worker_and_a_rerun_repeats_nothing(
    tmp_path: Path, cluster: tuple[str, dict[str, subprocess.Popen[bytes]]]
) -> None:
    address, procs = cluster
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    out = tmp_path / "out"
    results = out / "ergebnisse"
    command = [sys.executable, "-m", "integrationsatlas.cli", "batch", str(plan), "-o", str(out)]
    command += ["--scheduler", address, "--json"]
    env = environment(tmp_path / "home")
    batch = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    victim = procs["w1"]
    deadline = time.monotonic() + 180
    done_by: dict[str, str] = {}  # result file -> the worker that wrote it
    while len(done_by) < 6 or len(set(done_by.values())) < 2:  # under way, and each worker has finished a task
        assert batch.poll() is None, batch.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, f"the batch did not get under way on both workers: {done_by}"
        for path in results.glob("*.parquet"):
            done_by.setdefault(path.name, str(read_summary(path)["worker"]))
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)
    killed_at = len(list(results.glob("*.parquet")))
    stdout, stderr = batch.communicate(timeout=300)
    assert batch.returncode == 0, stderr.decode()[-3000:]
    assert victim.poll() is not None
    report = json.loads(stdout)
    assert report["tasks"] == N_TASKS and report["done"] == N_TASKS and report["failed"] == []
    assert killed_at < N_TASKS  # the worker died with tasks still to do

    files = sorted(results.glob("*.parquet"))
    assert len(files) == N_TASKS
    assert not [p for p in results.iterdir() if p.name.startswith(".")]  # no partial file left behind
    table = pd.read_csv(out / "zusammenfassung.csv", dtype={"area": str})
    assert len(table) == N_TASKS and table["key"].is_unique and (table["status"] == "fertig").all()
    assert table["area"].nunique() == N_TASKS
    workers = set(table["worker"])
    assert len(workers) == 2  # both worked; the survivor finished the victim's share
    assert f"{socket.gethostname()}:{victim.pid}" in workers

    stamps = {p.name: p.stat().st_mtime_ns for p in files}
    rerun = subprocess.run(command, env=env, capture_output=True, timeout=180, check=False)
    assert rerun.returncode == 0, rerun.stderr.decode()[-3000:]
    again = json.loads(rerun.stdout)
    assert (again["done"], again["skipped"]) == (0, N_TASKS)
    assert {p.name: p.stat().st_mtime_ns for p in results.glob("*.parquet")} == stamps
