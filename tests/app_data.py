"""The store a planner loads from ``../shared/data``, for the browser tests of the whole app.

Gemeinden (VG250), their population (Destatis), the 2,787 Grundschulen (MSB)
as ``ogs``. Built once per
session into a temporary ``INTEGRATIONSATLAS_HOME`` and copied per test
module. Nothing of it is committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_planner_home(home: Path, shared_data: Path) -> Path:
    """Import the shared real data into ``home`` the way a planner would (Daten page / CLI)."""
    from geo.importing import import_file
    from geo.settings import Settings

    cfg = Settings().with_home(home)
    gemeinden = import_file(shared_data / "boundaries/nrw_gemeinden_vg250_simplify200.geojson", "gemeinde", cfg)
    assert gemeinden.batch is not None and gemeinden.batch.rows_kept == 396
    schools = import_file(
        shared_data / "facilities/nrw_grundschulen_msb_2021.geojson", "ogs", cfg, on_invalid="keep_valid"
    )
    assert schools.batch is not None and schools.batch.rows_kept == 2787
    env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(home), "INTEGRATIONSATLAS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    population = shared_data / "population/nrw_gemeinden_destatis_gv_2019.csv"
    subprocess.run(
        [sys.executable, "-m", "integrationsatlas.cli", "population", str(population)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return home


def copy_home(source: Path, target: Path) -> Path:
    """A private copy of a built home (each server gets its own store)."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target
