"""``integrationsatlas server``: set up the database of a server with login, audit log export and retention.

``server setup --secrets .streamlit/secrets.toml`` (as the owner of the tables,
``INTEGRATIONSATLAS_DATABASE_URL``): schema, roles' grants and row-level
security, sensitive layers, Gemeinde label points, audit retention; run again
after every update. ``server audit`` exports the audit log (CSV or Excel) for
the data-protection officer; ``server prune-audit`` deletes entries older than
the retention (e.g. daily by cron).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from geo.access import ServerConfig, roles_overview
from geo.errors import DataError
from geo.settings import Settings
from integrationsatlas.cli._output import emit_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``server`` subcommand."""
    p = sub.add_parser(
        "server",
        help="Server mit Anmeldung: Datenbank einrichten, Protokoll exportieren und aufräumen",
        description="Richtet die Datenbank eines Servers mit Anmeldung ein (Rollen, Rechte, Zeilen-Sicherheit) "
        "und exportiert bzw. kürzt das Protokoll. Braucht INTEGRATIONSATLAS_DATABASE_URL.",
    )
    p.add_argument(
        "action", choices=("setup", "audit", "prune-audit", "roles"), help="setup | audit | prune-audit | roles"
    )
    p.add_argument(
        "--secrets",
        type=Path,
        default=Path(".streamlit/secrets.toml"),
        metavar="DATEI",
        help="secrets.toml des Servers mit [integrationsatlas] (Standard: .streamlit/secrets.toml)",
    )
    p.add_argument("--since", type=date.fromisoformat, metavar="JJJJ-MM-TT", help="Protokoll ab diesem Tag")
    p.add_argument("--until", type=date.fromisoformat, metavar="JJJJ-MM-TT", help="Protokoll bis zu diesem Tag")
    p.add_argument("--output", "-o", type=Path, metavar="DATEI", help="Protokoll in diese Datei (.csv oder .xlsx)")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    p.set_defaults(func=run_server)


def run_server(args: argparse.Namespace, settings: Settings) -> int:
    """Run one server action; exit 0 on success, 2 on a user-facing error."""
    if args.action == "roles":
        rows = roles_overview()
        if args.json:
            emit_json(rows)
        else:
            for row in rows:
                print(f"{row['Rolle']:<8} {row['Titel']}: {row['Darf']}")
        return 0
    if not settings.database_url:
        raise DataError(
            "Keine Datenbank: INTEGRATIONSATLAS_DATABASE_URL=postgresql://EIGENTÜMER:PASSWORT@host:5432/atlas setzen "
            "(für »setup« und »prune-audit« der Eigentümer der Tabellen)."
        )
    from geo.store import audit
    from geo.store.postgis import engine_for

    engine = engine_for(settings.database_url)
    if args.action == "setup":
        from geo.store.server_setup import set_up_server

        config = ServerConfig.from_secrets_file(args.secrets)
        set_up_server(settings.database_url, config, settings)
        users = config.database_users()
        if args.json:
            emit_json({"ok": True, "roles": users})
        else:
            print(f"Datenbank eingerichtet für {', '.join(f'{r} = {u}' for r, u in users.items()) or 'keine Rolle'}.")
        return 0
    if args.action == "prune-audit":
        deleted = audit.prune(engine)
        emit_json({"deleted": deleted}) if args.json else print(f"{deleted} Protokolleinträge gelöscht.")
        return 0
    since = datetime.combine(args.since, time.min, tzinfo=UTC) if args.since else None
    until = datetime.combine(args.until + timedelta(days=1), time.min, tzinfo=UTC) if args.until else None
    frame = audit.audit_frame(engine, since, until)
    audit.record(engine, "export", detail={"inhalt": "Protokoll", "zeilen": len(frame)})
    from geo.io.export import export_frame

    fmt: Literal["csv", "xlsx"] = "xlsx" if args.output is not None and args.output.suffix.lower() == ".xlsx" else "csv"
    data = export_frame(frame, fmt, layer_name="Protokoll", attribution=("Integrationsatlas NRW, Protokoll",))
    if args.output is None:
        sys.stdout.buffer.write(data)
        return 0
    args.output.write_bytes(data)
    print(f"{len(frame)} Protokolleinträge nach {args.output}.")
    return 0
