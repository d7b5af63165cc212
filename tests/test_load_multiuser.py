"""Bounded load test of the multi-user server on PostgreSQL/PostGIS (loopback only).

Two app processes (``streamlit run app.py`` on two ports, with
``INTEGRATIONSATLAS_DATABASE_URL`` set) and 20 concurrent sessions. Each
session (a thread) loops for :data:`DURATION_S` seconds: plain HTTP health
check and page request against one of the two servers, an import batch into
the shared database, and every other round a small siting plan
(:func:`integrationsatlas.siting.plan_sites`) saved as a scenario and then
reloaded and overwritten with the version check. Afterwards: no error,
every batch and scenario is there and complete, both servers still answer.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import requests

from geo.settings import PROJECT_ROOT, Settings
from geo.store import open_store
from geo.store.scenarios import list_scenarios, load_scenario, save_scenario
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec
from integrationsatlas.siting import plan_sites

pytest_plugins = ("store_backends",)

SESSIONS = 20
DURATION_S = float(os.environ.get("INTEGRATIONSATLAS_LOAD_SECONDS", "60"))
AREA = "05334"  # Städteregion Aachen (embedded data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app_servers(database_url: str, tmp_path: Path) -> Iterator[list[int]]:
    """Two ``streamlit run app.py`` processes on free loopback ports, sharing the database."""
    env = {
        **os.environ,
        "INTEGRATIONSATLAS_DATABASE_URL": database_url,
        "INTEGRATIONSATLAS_HOME": str(tmp_path / "home"),
        "INTEGRATIONSATLAS_OFFLINE": "1",
    }
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 90
        for port, proc in zip(ports, procs, strict=True):
            while True:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok":
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, "App-Server startet nicht"
                time.sleep(0.3)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_twenty_sessions_on_two_app_servers(app_servers: list[int], database_url: str, tmp_path: Path) -> None:
    settings = replace(Settings().with_home(tmp_path / "home"), database_url=database_url, online=False)
    lock = threading.Lock()
    batches: dict[str, int] = {}
    scenarios: dict[str, tuple[int, int]] = {}  # name -> (sites, version)
    errors: list[str] = []
    counts = {"http": 0, "imports": 0, "plans": 0, "saves": 0}
    deadline = time.monotonic() + DURATION_S

    def session(i: int) -> None:
        http = requests.Session()
        store = open_store(settings)
        k = 0
        while time.monotonic() < deadline:
            try:
                port = app_servers[(i + k) % 2]
                health = http.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=30)
                page = http.get(f"http://127.0.0.1:{port}/", timeout=30)
                assert health.status_code == 200 and health.text == "ok", health.text
                assert page.status_code == 200 and "<html" in page.text.lower()
                n = 5 + (i + k) % 7
                frame = gpd.GeoDataFrame(
                    {"id": [f"s{i}-{k}-{j}" for j in range(n)], "name": [f"Kita {i}/{k}/{j}" for j in range(n)]},
                    geometry=gpd.points_from_xy(356_000.0 + 10.0 * np.arange(n), np.full(n, 5_645_000.0 + i)),
                    crs="EPSG:25832",
                )
                info = store.write_layer(
                    "kita", frame, mode="append", source_file=f"sitzung{i}-{k}.csv", source="import", licence="-"
                )
                with lock:
                    batches[info.batch_id] = n
                    counts["http"] += 2
                    counts["imports"] += 1
                if k % 2 == 0:
                    plan = plan_sites(
                        settings,
                        AnalysisRequest(
                            "ankommenstreffpunkt",
                            5.0,
                            area=AreaRef(AREA),
                            siting=SitingSpec(p=1 + (i + k) % 3, keep_existing=False, sensitivity_ps=()),
                        ),
                    )
                    name = f"Sitzung {i} Plan {k}"
                    save_scenario(settings, plan.to_scenario(name))
                    loaded = load_scenario(settings, name)
                    version = save_scenario(
                        settings, replace(loaded, results={**loaded.results, "note": i}), overwrite=True
                    )
                    with lock:
                        scenarios[name] = (len(loaded.sites), version)
                        counts["plans"] += 1
                        counts["saves"] += 2
            except Exception as exc:  # every failure counts; the test asserts there are none
                with lock:
                    errors.append(f"Sitzung {i}, Runde {k}: {type(exc).__name__}: {exc}")
            k += 1

    started = time.monotonic()
    threads = [threading.Thread(target=session, args=(i,), name=f"sitzung-{i}") for i in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DURATION_S + 300)
    elapsed = time.monotonic() - started

    # nothing lost: every batch with all its rows, every scenario complete with its version
    store = open_store(settings)
    stored = {b.batch_id: b for b in store.batches("kita")}
    lost_batches = [
        b for b, n in batches.items() if b not in stored or stored[b].rows_kept != n or not stored[b].active
    ]
    layer = store.read_layer("kita")
    per_batch = {} if layer is None else layer.groupby("batch_id").size().to_dict()
    lost_rows = sum(n - per_batch.get(b, 0) for b, n in batches.items())
    lost_scenarios = []
    for name, (n_sites, version) in scenarios.items():
        back = load_scenario(settings, name)
        if len(back.sites) != n_sites or back.version != version or version != 2:
            lost_scenarios.append(name)
    listed = set(list_scenarios(settings)["name"])
    for port in app_servers:
        assert requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=10).text == "ok"
    summary = {
        "sessions": SESSIONS,
        "app_servers": len(app_servers),
        "duration_s": round(elapsed, 1),
        **counts,
        "errors": len(errors),
        "lost_batches": len(lost_batches),
        "lost_rows": lost_rows,
        "lost_scenarios": len(lost_scenarios) + len(set(scenarios) - listed),
    }
    print("LOAD " + json.dumps(summary))
    assert errors == [], errors[:5]
    assert not threads or all(not t.is_alive() for t in threads)
    assert counts["imports"] >= SESSIONS and counts["plans"] >= SESSIONS  # every session did real work
    assert lost_batches == [] and lost_rows == 0
    assert lost_scenarios == [] and set(scenarios) <= listed
    assert len(per_batch) == len(batches)
