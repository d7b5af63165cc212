"""ruff and mypy run as part of the test suite (and so in CI)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from geo.settings import PROJECT_ROOT


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(PROJECT_ROOT / ".venv" / "bin")) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return path


def test_ruff_is_clean() -> None:
    out = subprocess.run(
        [
            _tool("ruff"),
            "check",
            "--output-format",
            "concise",
            "geo",
            "planning",
            "ui",
            "integrationsatlas",
            "scripts",
            "tests",
            "benchmarks",
            "app.py",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow  # about 45 s: make lint runs mypy in the edit loop, make test runs this
def test_mypy_is_clean() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_is_clean() -> None:
    out = subprocess.run(
        [_tool("ruff"), "format", "--check", "."], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
