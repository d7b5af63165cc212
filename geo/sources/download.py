"""Download files from online sources, with progress, a clear error and a cache.

Every online source of the Integrationsatlas (BKG, Destatis, MSB, Overpass)
goes through :func:`download` (osmnx brings its own HTTP code, see
:mod:`geo.sources.osm`). Downloads land in ``Settings.cache_dir / "downloads"``; a file
is first written as ``*.part`` and renamed only when complete, so a broken
connection never leaves a truncated file that looks valid.

When ``Settings.online`` is false nothing is contacted: :func:`download`
raises :class:`~geo.errors.SourceUnavailableError` at once unless the file is
already cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

from geo.errors import SourceUnavailableError
from geo.settings import Settings

logger = logging.getLogger(__name__)

#: ``progress(bytes_done, bytes_total)``; ``bytes_total`` is ``None`` when the
#: server sends no ``Content-Length``.
ProgressCallback = Callable[[int, "int | None"], None]

#: Sent with every request; some public servers refuse the default user agent.
USER_AGENT = "Integrationsatlas-NRW/0.1 (+https://github.com/; Planungswerkzeug)"
#: Bytes read per chunk while streaming.
CHUNK_SIZE = 64 * 1024
#: Default timeout in seconds (connect and read).
DEFAULT_TIMEOUT = 60.0


def download_dir(settings: Settings) -> Path:
    """The folder that holds cached downloads (``Settings.cache_dir / "downloads"``)."""
    return Path(settings.cache_dir) / "downloads"


def cache_name(url: str, params: Mapping[str, object] | None = None, suffix: str = "") -> str:
    """A stable, file-system safe cache file name for ``url`` with ``params``.

    >>> cache_name("https://example.org/data/schuldaten.csv")
    'schuldaten-...csv'
    """
    full = url if not params else f"{url}?{urlencode(sorted((str(k), str(v)) for k, v in params.items()))}"
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()[:12]
    stem = Path(urlsplit(url).path).name or urlsplit(url).hostname or "download"
    base, dot, ext = stem.partition(".")
    ext = suffix.lstrip(".") or ext
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in base)[:60] or "download"
    return f"{safe}-{digest}.{ext}" if ext or dot else f"{safe}-{digest}"


def unreachable_message(url: str, detail: str = "") -> str:
    """The German message shown when ``url`` cannot be reached."""
    extra = f" ({detail})" if detail else ""
    return (
        f"Keine Internetverbindung oder Quelle nicht erreichbar: {url}{extra}. "
        "Bitte später erneut versuchen oder die Datei manuell herunterladen und importieren "
        "(»integrationsatlas import DATEI --layer EBENE« bzw. Seite »Daten« in der App)."
    )


def download(
    url: str,
    dest: str | Path | None = None,
    *,
    settings: Settings,
    params: Mapping[str, object] | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_age_s: float | None = 24 * 3600.0,
    session: requests.Session | None = None,
) -> Path:
    """Download ``url`` into the cache and return the local path.

    Parameters
    ----------
    url
        HTTP(S) address of the resource.
    dest
        Target file. A relative path is resolved against the download cache
        (:func:`download_dir`); ``None`` derives a name from the URL and
        ``params`` (:func:`cache_name`).
    settings
        Gives the cache folder and whether online access is allowed.
    params
        Query parameters added to ``url``.
    progress
        Called as ``progress(bytes_done, bytes_total)`` after every chunk and
        once at the end; ``bytes_total`` is ``None`` if unknown.
    timeout
        Seconds to wait for the connection and for each chunk.
    max_age_s
        A cached file younger than this many seconds is returned without
        contacting the server; ``None`` reuses any cached copy, ``0`` always
        downloads.
    session
        A :class:`requests.Session` to reuse; a new one is made otherwise.

    Returns
    -------
    pathlib.Path
        The complete downloaded (or cached) file.

    Raises
    ------
    SourceUnavailableError
        If ``settings.online`` is false and nothing is cached, if the server
        cannot be reached or times out, or if it answers with an HTTP error
        (the message names status and URL).
    """
    target = _resolve_dest(url, dest, params, settings)
    shown = _shown_url(url)
    logger.debug("source %s is %s", shown, _full_url(url, params))
    if target.exists() and _fresh(target, max_age_s):
        logger.info("using cached download %s for %s", target, shown)
        if progress is not None:
            size = target.stat().st_size
            progress(size, size)
        return target
    if not settings.online:
        if target.exists():
            logger.warning("offline: using stale cached copy %s of %s", target, shown)
            return target
        raise SourceUnavailableError(
            f"Online-Quellen sind abgeschaltet (INTEGRATIONSATLAS_OFFLINE): {shown} wird nicht abgerufen. "
            "Bitte die Datei manuell herunterladen und auf der Seite »Daten« importieren "
            "(oder »integrationsatlas import DATEI --layer EBENE«)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    own_session = session is None
    http = session if session is not None else requests.Session()
    try:
        logger.info("downloading %s -> %s", _full_url(url, params), target)
        with http.get(
            url,
            params={str(k): str(v) for k, v in params.items()} if params else None,
            stream=True,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
        ) as response:
            if response.status_code >= 400:
                raise SourceUnavailableError(
                    f"Die Quelle {shown} antwortete mit HTTP {response.status_code} "
                    f"({response.reason or 'Fehler'}). Bitte die Adresse prüfen oder später erneut versuchen; "
                    "alternativ die Datei manuell herunterladen und importieren."
                )
            total = _content_length(response)
            done = 0
            with part.open("wb") as fh:
                for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                    if not chunk:
                        continue
                    fh.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
            if total is not None and done < total:
                raise SourceUnavailableError(
                    unreachable_message(shown, f"Verbindung abgebrochen nach {done} von {total} Bytes")
                )
        os.replace(part, target)
    except requests.exceptions.Timeout as exc:
        raise SourceUnavailableError(unreachable_message(shown, f"Zeitüberschreitung nach {timeout:g} s")) from exc
    except requests.exceptions.RequestException as exc:
        raise SourceUnavailableError(unreachable_message(shown, type(exc).__name__)) from exc
    finally:
        part.unlink(missing_ok=True)
        if own_session:
            http.close()
    if progress is not None:
        size = target.stat().st_size
        progress(size, size)
    return target


def _resolve_dest(url: str, dest: str | Path | None, params: Mapping[str, object] | None, settings: Settings) -> Path:
    if dest is None:
        return download_dir(settings) / cache_name(url, params)
    path = Path(dest)
    return path if path.is_absolute() else download_dir(settings) / path


def _shown_url(url: str) -> str:
    """The source as a message names it: server and file, never a long query (the full URL is logged)."""
    parts = urlsplit(url)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1]
    shown = f"{parts.netloc}/…/{name}" if name and parts.path.count("/") > 1 else f"{parts.netloc}{parts.path}"
    return shown if len(shown) <= 80 else shown[:79] + "…"


def _full_url(url: str, params: Mapping[str, object] | None) -> str:
    if not params:
        return url
    return f"{url}?{urlencode([(str(k), str(v)) for k, v in params.items()])}"


def _fresh(path: Path, max_age_s: float | None) -> bool:
    if max_age_s is None:
        return True
    return (time.time() - path.stat().st_mtime) < max_age_s


def _content_length(response: requests.Response) -> int | None:
    # a compressed transfer makes Content-Length the compressed size: not comparable
    if response.headers.get("Content-Encoding", "identity") not in ("", "identity"):
        return None
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
