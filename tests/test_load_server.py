"""Load test of the server with login: 20 sessions on two replicas, imports per second, nothing lost.

Loopback only: ``oidc-provider-mock``, two ``streamlit run serve.py`` replicas
and one PostGIS database set up for the roles (:mod:`server_stack`,
:mod:`server_support`). For :data:`DURATION_S` seconds:

* **4 browser sessions** (headless Chromium, each logged in as ``planung``
  through the identity provider, two per replica) upload a small CSV of Kitas
  on the Daten page and press »Importieren«, again and again;
* **16 CLI writers** (processes with the ``planung`` database user) import
  small CSV files through the CLI entry ``integrationsatlas import``, either
  one process per file (``INTEGRATIONSATLAS_LOAD_CLI=process``) or, by
  default, one long-running process per writer that calls the CLI entry for
  one file after the other (``warm``: what a batch job importing a folder does).

Afterwards every import that reported success must be in the database with
all its rows (0 lost writes), nothing may have failed (0 errors), and both
replicas must answer. Prints ``LOAD {...}`` with the figures (imports per
second, latencies, load average).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from browser_support import PROJECT_ROOT, browser_unavailable_reason, launch_chromium, wait_idle
from server_stack import ServerStack, login, offline_idp, server_stack

from geo.store.postgis import PostgisStore

if TYPE_CHECKING:
    from server_support import ServerDb

pytest_plugins = ("store_backends", "server_support")
pytestmark = [pytest.mark.slow, pytest.mark.browser]

DURATION_S = float(os.environ.get("INTEGRATIONSATLAS_LOAD_SECONDS", "60"))
BROWSERS = 4
CLI_WRITERS = 16
CLI_MODE = os.environ.get("INTEGRATIONSATLAS_LOAD_CLI", "warm")
_REASON = browser_unavailable_reason()

#: A CLI writer that stays up: the CLI entry once per file, JSON result lines on stdout.
WARM_WRITER = textwrap.dedent("""
    import contextlib, io, json, sys, time
    from integrationsatlas.cli import main
    for path in sys.argv[1:]:
        out = io.StringIO()
        t0 = time.monotonic()
        with contextlib.redirect_stdout(out):
            code = main(["import", path, "--layer", "kita", "--json"])
        print(json.dumps({"file": path, "code": code, "seconds": time.monotonic() - t0,
                          "result": out.getvalue()}), flush=True)
""")


def kita_csv(path: Path, tag: str, n: int) -> Path:
    """A small synthetic CSV of ``n`` Kitas in Aachen (ids unique per file)."""
    rows = [
        f"{tag}-{j};Kita {tag} {j};{50.76 + 0.001 * j:.4f};{6.08 + 0.0013 * (hash(tag) % 50):.4f}" for j in range(n)
    ]
    path.write_text("id;name;lat;lon\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stack(
    postgres_cluster: Any, server_roles: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerStack, ServerDb]]:
    if _REASON:
        pytest.skip(_REASON)
    from server_support import server_db_context

    root = tmp_path_factory.mktemp("load")
    with (
        server_db_context(postgres_cluster, server_roles, root) as db,
        server_stack(root / "stack", db.urls, time_limit_s=600) as running,
    ):
        yield running, db


def test_twenty_logged_in_sessions_on_two_replicas(stack: tuple[ServerStack, ServerDb], tmp_path: Path) -> None:
    running, db = stack
    lock = threading.Lock()
    imported: dict[str, tuple[str, int]] = {}  # file -> (batch id or "", rows); the batch id from the CLI
    browser_files: dict[str, int] = {}  # browser uploads: file name -> rows (the page names the batch)
    errors: list[str] = []
    browser_s: list[float] = []
    cli_s: list[float] = []
    deadline = time.monotonic() + DURATION_S
    start_load = os.getloadavg()

    def browser_session(i: int) -> None:
        from playwright.sync_api import sync_playwright

        base = running.replicas[i % 2].url
        with sync_playwright() as pw:
            chromium = launch_chromium(pw)
            context = chromium.new_context(viewport={"width": 1300, "height": 900})
            offline_idp(context)
            page = context.new_page()
            page.set_default_timeout(180_000)
            try:
                login(page, base, "planung")
                page.goto(f"{base}/daten")
                page.get_by_text("Datei hochladen").first.wait_for()
                wait_idle(page, 180_000)
                k = 0
                while time.monotonic() < deadline:
                    name = f"browser{i}-{k}"
                    n = 3 + (i + k) % 5
                    path = kita_csv(tmp_path / f"{name}.csv", name, n)
                    t0 = time.monotonic()
                    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))
                    page.get_by_role("button", name="Importieren").click()
                    page.get_by_text(f"{n} Zeile(n) in »Kitas« gespeichert").wait_for()
                    with lock:
                        browser_s.append(time.monotonic() - t0)
                        browser_files[path.name] = n
                    wait_idle(page, 180_000)
                    k += 1
            except Exception as exc:  # every failure counts; the test asserts there are none
                with lock:
                    errors.append(f"Browser {i}: {type(exc).__name__}: {exc}")
            finally:
                chromium.close()

    env = {
        **os.environ,
        "INTEGRATIONSATLAS_DATABASE_URL": db.url("planung"),
        "INTEGRATIONSATLAS_HOME": str(tmp_path / "cli-home"),
        "INTEGRATIONSATLAS_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    }

    def record(line: dict[str, Any], n: int) -> None:
        with lock:
            if line["code"] != 0:
                errors.append(f"CLI {line['file']}: Exit {line['code']} {line.get('result', '')[:300]}")
                return
            result = json.loads(line["result"])
            imported[Path(line["file"]).name] = (result["batch"]["batch_id"], n)
            cli_s.append(line["seconds"])

    def cli_writer(i: int) -> None:
        k = 0
        while time.monotonic() < deadline:
            files = []
            for _ in range(1 if CLI_MODE == "process" else 200):
                name = f"cli{i}-{k}"
                files.append((kita_csv(tmp_path / f"{name}.csv", name, 3 + (i + k) % 7), 3 + (i + k) % 7))
                k += 1
            sizes = {str(p): n for p, n in files}
            if CLI_MODE == "process":
                path, n = files[0]
                t0 = time.monotonic()
                done = subprocess.run(
                    [sys.executable, "-m", "integrationsatlas.cli", "import", str(path), "--layer", "kita", "--json"],
                    env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
                )  # fmt: skip
                record({"file": str(path), "code": done.returncode, "seconds": time.monotonic() - t0,
                        "result": done.stdout or done.stderr}, n)  # fmt: skip
                continue
            proc = subprocess.Popen(
                [sys.executable, "-c", WARM_WRITER, *sizes], env=env, cwd=PROJECT_ROOT,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = json.loads(raw)
                record(line, sizes[line["file"]])
                if time.monotonic() >= deadline:
                    proc.terminate()  # between two imports or inside one: a write is complete or absent
                    break
            proc.wait(timeout=60)

    started = time.monotonic()
    threads = [threading.Thread(target=browser_session, args=(i,)) for i in range(BROWSERS)]
    threads += [threading.Thread(target=cli_writer, args=(i,)) for i in range(CLI_WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DURATION_S + 600)
    elapsed = time.monotonic() - started
    end_load = os.getloadavg()

    # nothing lost: every reported import is in the database, active and complete
    store = PostgisStore(db.owner_url)
    batches = {b.batch_id: b for b in store.batches("kita")}
    by_file = {b.source_file: b for b in batches.values()}
    lost = [f for f, (bid, n) in imported.items() if bid not in batches or batches[bid].rows_kept != n]
    lost += [f for f, n in browser_files.items() if f not in by_file or by_file[f].rows_kept != n]
    layer = store.read_layer("kita")
    per_batch = {} if layer is None else layer.groupby("batch_id").size().to_dict()
    lost_rows = sum(b.rows_kept - per_batch.get(b.batch_id, 0) for b in batches.values() if b.active)
    for replica in running.replicas:
        assert requests.get(f"{replica.url}/_stcore/health", timeout=30).text == "ok"
    total = len(imported) + len(browser_files)
    summary = {
        "sessions": BROWSERS + CLI_WRITERS,
        "browsers": BROWSERS,
        "cli_writers": CLI_WRITERS,
        "cli_mode": CLI_MODE,
        "replicas": len(running.replicas),
        "duration_s": round(elapsed, 1),
        "imports": total,
        "imports_per_s": round(total / elapsed, 2),
        "browser_imports": len(browser_files),
        "browser_median_s": round(statistics.median(browser_s), 2) if browser_s else None,
        "cli_imports": len(imported),
        "cli_median_s": round(statistics.median(cli_s), 2) if cli_s else None,
        "errors": len(errors),
        "lost_writes": len(lost),
        "lost_rows": lost_rows,
        "loadavg_start": [round(x, 2) for x in start_load],
        "loadavg_end": [round(x, 2) for x in end_load],
    }
    print("LOAD " + json.dumps(summary))
    assert errors == [], errors[:5]
    assert lost == [] and lost_rows == 0
    assert len(browser_files) >= BROWSERS  # every browser session imported
