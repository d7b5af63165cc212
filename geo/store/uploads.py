"""Uploaded input files (OSM extracts, GTFS feeds) kept on disk: by content, per owner, for a while.

The analyses read large inputs from disk (a street network is built once per
file content and cached), so an upload is written to ``cache_dir/uploads/``:

``uploads/<kind>/<owner key>/<sha256 of the bytes>/<file name>``

* **By content.** The folder is the SHA-256 of the bytes: a second upload with
  the same name and size but other bytes is a different file and is used (the
  name alone once decided, and the first person's file was used instead).
* **Per owner.** The owner is whoever uploaded it – a browser session today,
  a logged-in user once there is a login (:func:`ui.uploads.upload_owner` is
  the one place that decides). Only the owner's uploads are listed and picked;
  the owner key is a hash, so an owner id never becomes a path.
* **For a while.** An upload and every pick refresh a file's time; files
  unused for :attr:`geo.settings.Settings.upload_max_age_hours` are
  deleted when uploads are next listed or written (also left-overs of the
  earlier by-name folders ``osm_uploads/`` and ``gtfs_uploads/``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from geo.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["Upload", "UploadStore"]

#: Folders of the earlier by-name layout, cleaned up with the expired uploads.
LEGACY_FOLDERS: Final = ("osm_uploads", "gtfs_uploads")
_UNSAFE_NAME = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True)
class Upload:
    """One kept upload.

    Attributes
    ----------
    path
        The file on disk (its name ends like the uploaded one, e.g. ``.osm.pbf``).
    name
        The name as uploaded (for display).
    sha256
        Hex SHA-256 of the content.
    size
        Bytes.
    """

    path: Path
    name: str
    sha256: str
    size: int


def safe_file_name(name: str) -> str:
    """A file name for disk: the last path part, runs of characters other than letters, digits, ``.``, ``-`` as ``_``.

    >>> safe_file_name("../../etc/passwd"), safe_file_name("Köln Süd {{x}}.osm.pbf"), safe_file_name("..")
    ('passwd', 'Köln_Süd_x_.osm.pbf', 'upload')
    """
    return _UNSAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip("._") or "upload"


def owner_key(owner: str) -> str:
    """The folder name of an owner: a hash, so an id never becomes a path.

    >>> len(owner_key("session:abc")), owner_key("session:abc") == owner_key("session:abd")
    (32, False)
    """
    return hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class UploadStore:
    """Uploads under ``settings.cache_dir / "uploads"`` (see the module notes).

    Parameters
    ----------
    settings
        ``cache_dir`` and ``upload_max_age_hours``.
    """

    def __init__(self, settings: Settings) -> None:
        self.cache_dir = Path(settings.cache_dir)
        self.root = self.cache_dir / "uploads"
        self.max_age_s = float(settings.upload_max_age_hours) * 3600.0

    def _folder(self, kind: str, owner: str) -> Path:
        if not re.fullmatch(r"[a-z0-9_]+", kind):
            raise ValueError(f"kind {kind!r}")
        return self.root / kind / owner_key(owner)

    def put(self, kind: str, owner: str, name: str, content: bytes) -> Upload:
        """Keep ``content`` as ``owner``'s upload of ``kind`` (an existing identical one is reused).

        Parameters
        ----------
        kind
            ``"osm"`` or ``"gtfs"`` (any lower-case word).
        owner
            Owner id (see :func:`ui.uploads.upload_owner`).
        name
            The uploaded file's name; only its last part is used, made safe.
        content
            The bytes.
        """
        self.purge_expired()
        digest = hashlib.sha256(content).hexdigest()
        folder = self._folder(kind, owner) / digest
        path = folder / safe_file_name(name)
        if not path.is_file() or path.stat().st_size != len(content):
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            os.replace(tmp, path)
            logger.info("Upload %s (%d Bytes, sha256 %s…) gespeichert", path.name, len(content), digest[:12])
        self.touch(path)
        return Upload(path, name, digest, len(content))

    def list(self, kind: str, owner: str) -> list[Upload]:
        """``owner``'s uploads of ``kind``, most recently used first (expired ones are deleted first)."""
        self.purge_expired()
        folder = self._folder(kind, owner)
        files = [p for p in folder.glob("*/*") if p.is_file() and not p.name.startswith(".part-")]
        files.sort(key=lambda p: (-p.stat().st_mtime_ns, p.name))
        return [Upload(p, p.name, p.parent.name, p.stat().st_size) for p in files]

    def latest(self, kind: str, owner: str) -> Upload | None:
        """``owner``'s most recently used upload of ``kind``, or ``None``."""
        known = self.list(kind, owner)
        return known[0] if known else None

    def touch(self, path: Path) -> None:
        """Mark an upload as used now (it expires ``upload_max_age_hours`` later)."""
        now = time.time()
        os.utime(path, (now, now))
        os.utime(path.parent, (now, now))

    def purge_expired(self, now: float | None = None) -> int:
        """Delete uploads unused for longer than the maximum age; the number of files deleted."""
        limit = (time.time() if now is None else now) - self.max_age_s
        removed = 0
        for content_dir in self.root.glob("*/*/*") if self.root.is_dir() else ():
            files = [p for p in content_dir.iterdir() if p.is_file()]
            if all(p.stat().st_mtime < limit for p in files):
                shutil.rmtree(content_dir, ignore_errors=True)
                removed += len(files)
        for legacy in LEGACY_FOLDERS:
            folder = self.cache_dir / legacy
            for p in folder.glob("*") if folder.is_dir() else ():
                if p.is_file() and p.stat().st_mtime < limit:
                    p.unlink(missing_ok=True)
                    removed += 1
        if removed:
            logger.info("%d abgelaufene Upload-Datei(en) gelöscht", removed)
        return removed
