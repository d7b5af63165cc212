"""Architecture guards: the pure packages never pull in Streamlit."""

from __future__ import annotations

import subprocess
import sys

from geo.settings import PROJECT_ROOT


def test_geo_and_planning_do_not_import_streamlit() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import geo, planning\n"
        "for pkg in (geo, planning):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if m.name != 'geo.data_build':\n"
        "            importlib.import_module(m.name)\n"
        "assert 'streamlit' not in sys.modules, sorted(k for k in sys.modules if k.startswith('streamlit'))\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_does_not_import_streamlit() -> None:
    code = "import sys, integrationsatlas.cli as c; c.build_parser(); print('streamlit' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
