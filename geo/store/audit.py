"""The audit log of a server: who imported, replaced, deleted, restored, exported or opened what.

The log is the table ``atlas_audit`` (:mod:`geo.store.server_schema`): the
database writes an entry for every batch import, every switch of a batch and
every saved or deleted scenario itself (triggers), so no path (app, CLI, psql) can write without one; the app
adds the reads (exports, opening a sensitive layer) with :func:`record`.
Entries are never changed; they are deleted only after the retention
(:func:`prune`), and the data-protection officer gets them with
:func:`audit_frame` / :func:`export_audit`.

Who acts is a :class:`Actor` in a context variable: the app sets the logged-in
user for each run of a session (:func:`set_actor`); without one (CLI, scripts)
the operating-system user and the program name are recorded. Every pooled
database connection carries the actor of the thread that checks it out
(``atlas.actor``, ``atlas.role``, ``atlas.request``), which the trigger reads.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import pandas as pd
from sqlalchemy import Engine, event, text

logger = logging.getLogger(__name__)

Action = Literal[
    "import", "replace", "replaced", "delete", "restore", "export", "open", "scenario_save", "scenario_delete"
]
#: German titles of the actions, for the audit view and export.
ACTION_TITLES: Final[Mapping[str, str]] = {
    "import": "Import (hinzufügen)",
    "replace": "Import (ersetzen)",
    "replaced": "durch Import ersetzt",
    "delete": "gelöscht",
    "restore": "wiederhergestellt",
    "export": "exportiert",
    "open": "geschützte Ebene geöffnet",
    "scenario_save": "Szenario gespeichert",
    "scenario_delete": "Szenario gelöscht",
}
#: Columns of :func:`audit_frame`, German headers.
AUDIT_COLUMNS: Final[Mapping[str, str]] = {
    "id": "Nr.",
    "at": "Zeit (UTC)",
    "actor": "Person",
    "app_role": "Rolle",
    "db_user": "Datenbankbenutzer",
    "action": "Aktion",
    "layer_id": "Ebene",
    "batch_id": "Stapel",
    "detail": "Einzelheiten",
    "request": "Anfrage",
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a name (e-mail or subject of the login), the app role and the request."""

    name: str
    role: str | None = None
    request: Mapping[str, str] = field(default_factory=dict)


def _process_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    return Actor(f"{user}@{socket.gethostname()}", None, {"program": program})


_ACTOR: ContextVar[Actor | None] = ContextVar("atlas_actor", default=None)


def set_actor(actor: Actor | None) -> None:
    """Set who acts in the current context (the app: at the start of every run of a session)."""
    _ACTOR.set(actor)


def current_actor() -> Actor:
    """Who acts here: the actor set in this context, else the operating-system user of the process."""
    return _ACTOR.get() or _process_actor()


def in_app_session() -> bool:
    """Whether an app user is set in this context (then the app records reads itself)."""
    return _ACTOR.get() is not None


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Run a block as ``actor`` (tests, worker threads)."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def _settings_of(actor: Actor) -> tuple[str, str, str]:
    return actor.name, actor.role or "", json.dumps(dict(actor.request), ensure_ascii=False)


def attach(engine: Engine) -> None:
    """Give every connection checked out of ``engine``'s pool the actor of the checking-out thread.

    The settings are session-wide and committed at once, so a rolled-back
    transaction cannot bring back an earlier user's name.
    """
    if event.contains(engine, "checkout", _on_checkout):
        return
    event.listen(engine, "checkout", _on_checkout)


def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    actor, role, request = _settings_of(current_actor())
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(
            "SELECT set_config('atlas.actor', %s, false), set_config('atlas.role', %s, false), "
            "set_config('atlas.request', %s, false)",
            (actor, role, request),
        )
    finally:
        cursor.close()
    dbapi_connection.commit()


def record(
    engine: Engine,
    action: Action,
    *,
    layer_id: str | None = None,
    batch_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry (exports and opened sensitive layers; imports are logged by the database).

    Time and database user are set by the database; actor, role and request
    come from :func:`current_actor`.
    """
    actor = current_actor()
    with engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO atlas_audit (actor, app_role, action, layer_id, batch_id, detail, request) "
                "VALUES (:actor, :role, :action, :layer, :batch, CAST(:detail AS jsonb), "
                "atlas_request() || CAST(:request AS jsonb))"
            ),
            {
                "actor": actor.name,
                "role": actor.role,
                "action": action,
                "layer": layer_id,
                "batch": batch_id,
                "detail": json.dumps(dict(detail or {}), ensure_ascii=False, default=str),
                "request": json.dumps(dict(actor.request), ensure_ascii=False),
            },
        )


def audit_frame(engine: Engine, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """The audit log (oldest first) as a table with German headers and action titles.

    Needs the ``audit`` permission (``SELECT`` on ``atlas_audit``).
    """
    query = "SELECT id, at, actor, app_role, db_user, action, layer_id, batch_id, detail::text, request::text "
    query += "FROM atlas_audit WHERE (CAST(:since AS timestamptz) IS NULL OR at >= :since) "
    query += "AND (CAST(:until AS timestamptz) IS NULL OR at < :until) ORDER BY id"
    with engine.connect() as con:
        rows = con.execute(text(query), {"since": since, "until": until}).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(AUDIT_COLUMNS), dtype=object).fillna("")
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.strftime("%Y-%m-%d %H:%M:%S")
    frame["action"] = frame["action"].map(lambda a: ACTION_TITLES.get(a, a))
    return frame.rename(columns=dict(AUDIT_COLUMNS))


def prune(engine: Engine) -> int:
    """Delete the entries older than the retention (``atlas_settings.audit_retention_days``); their number.

    Run as the owner of the tables (``integrationsatlas server prune-audit``, e.g. daily by cron).
    """
    with engine.begin() as con:
        deleted = con.execute(
            text(
                "DELETE FROM atlas_audit WHERE at < now() - make_interval(days => "
                "(SELECT value::int FROM atlas_settings WHERE key = 'audit_retention_days'))"
            )
        ).rowcount
    logger.info("audit log: %d entries older than the retention deleted", deleted)
    return int(deleted)
