"""Who may do what on a server with login: permissions and roles, declared once with their behaviour.

A :class:`Permission` carries the database privileges that implement it, a
:class:`Role` is a set of permissions; the app asks a role whether it
:meth:`~Role.allows` an action (never compares role names), and the database
set-up (:mod:`geo.store.grants`) grants each role's database user exactly the
privileges of its permissions. Row-level security in the database enforces
:data:`EXACT` (exact positions of sensitive layers) and :data:`DELETE`
(switching import batches off and on) below the application, so the CLI acting
with a role's database credentials gets the same limits.

:class:`ServerConfig` holds the settings of a server with login: which OIDC
claim carries the roles and with which values, the database address of each
role, the audit retention, the fair-use limits and the privacy rule. It is read
from the ``[integrationsatlas]`` section of ``.streamlit/secrets.toml``.

Without ``[auth]`` and without a database the app is the single-user tool and
none of this applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from geo.errors import DataError, IntegrationsatlasError
from geo.privacy import PrivacyRule


class AccessDeniedError(IntegrationsatlasError):
    """The logged-in user's role (or the database user) may not do this."""


@dataclass(frozen=True)
class Grant:
    """Table (or function) privileges in PostgreSQL: ``GRANT privileges ON target``."""

    privileges: str
    target: str


@dataclass(frozen=True)
class Permission:
    """One thing a user may do, with the database privileges it needs.

    Parameters
    ----------
    id
        Stable key, also stored in the database (``atlas_role_access.permissions``),
        where row-level security asks for it.
    title, title_en
        For the role overview in the app and the docs.
    grants
        Privileges the database user of a role with this permission gets.
    """

    id: str
    title: str
    title_en: str
    grants: tuple[Grant, ...] = ()


#: Read coverage, scenarios, reports; sensitive layers only as aggregates.
READ: Final = Permission(
    "read",
    "Versorgung, Szenarien und Berichte ansehen (geschützte Ebenen nur zusammengefasst)",
    "view coverage, scenarios and reports (protected layers aggregated only)",
    (
        Grant(
            "SELECT",
            "atlas_schema_version, atlas_batches, atlas_features, atlas_scenarios, atlas_scenario_sites, "
            "atlas_privacy, atlas_role_access, atlas_gemeinden, atlas_settings",
        ),
        Grant("SELECT, INSERT", "atlas_cache"),  # shared street networks etc. (geo.store.result_cache)
        Grant("INSERT", "atlas_audit"),
        Grant("EXECUTE", "FUNCTION atlas_sensitive_aggregate(text)"),
    ),
)
#: Import and fetch data (``append`` and ``replace``).
IMPORT: Final = Permission(
    "import",
    "Daten importieren und abrufen",
    "import and fetch data",
    (Grant("INSERT", "atlas_batches, atlas_features"), Grant("UPDATE (active)", "atlas_batches")),
)
#: Run siting and save scenarios.
PLAN: Final = Permission(
    "plan",
    "Standorte planen und Szenarien speichern",
    "plan sites and save scenarios",
    (Grant("INSERT, UPDATE, DELETE", "atlas_scenarios, atlas_scenario_sites"),),
)
#: Exact positions of sensitive layers (row-level security, no extra grant).
EXACT: Final = Permission(
    "exact",
    "genaue Lage geschützter Ebenen (Unterkünfte) sehen",
    "see exact positions of protected layers (accommodation)",
)
#: Delete (deactivate) and restore import batches.
DELETE: Final = Permission(
    "delete",
    "Importe löschen und wiederherstellen",
    "delete and restore imports",
    (Grant("UPDATE (active)", "atlas_batches"),),
)
#: Read and export the audit log.
AUDIT: Final = Permission(
    "audit", "Protokoll einsehen und exportieren", "view and export the audit log", (Grant("SELECT", "atlas_audit"),)
)

#: Every permission, in the order of the role overview.
PERMISSIONS: Final[tuple[Permission, ...]] = (READ, IMPORT, PLAN, EXACT, DELETE, AUDIT)


@dataclass(frozen=True)
class Role:
    """A role of the server: a set of permissions.

    Roles are ordered from least to most (:data:`ROLES`); a user whose claim
    names several roles gets the last (most capable) of them.
    """

    id: str
    title: str
    title_en: str
    permissions: frozenset[Permission]

    def allows(self, permission: Permission) -> bool:
        """Whether this role may do ``permission``.

        >>> RAT.allows(IMPORT), PLANUNG.allows(IMPORT)
        (False, True)
        """
        return permission in self.permissions

    @property
    def grants(self) -> tuple[Grant, ...]:
        """The database privileges of this role's permissions (in :data:`PERMISSIONS` order)."""
        return tuple(g for p in PERMISSIONS if p in self.permissions for g in p.grants)

    @property
    def permission_ids(self) -> tuple[str, ...]:
        """Ids of this role's permissions, as stored in the database."""
        return tuple(p.id for p in PERMISSIONS if p in self.permissions)


RAT: Final = Role("rat", "Rat und Ausschüsse", "Council", frozenset({READ}))
PLANUNG: Final = Role("planung", "Planung", "Planning", frozenset({READ, IMPORT, PLAN, EXACT}))
ADMIN: Final = Role("admin", "Verwaltung", "Administration", frozenset({READ, IMPORT, PLAN, EXACT, DELETE, AUDIT}))
#: The roles, least capable first.
ROLES: Final[tuple[Role, ...]] = (RAT, PLANUNG, ADMIN)


def role(role_id: str) -> Role:
    """The declared role ``role_id``.

    Raises
    ------
    DataError
        Naming the known roles.
    """
    for r in ROLES:
        if r.id == role_id:
            return r
    raise DataError(f"Unbekannte Rolle »{role_id}«. Bekannt sind: {', '.join(r.id for r in ROLES)}.")


@dataclass(frozen=True)
class ServerConfig:
    """Settings of a server with login (section ``[integrationsatlas]`` of ``secrets.toml``).

    Parameters
    ----------
    role_claim
        The OIDC claim with the user's groups or roles; a dotted path reaches
        into nested claims (Keycloak: ``realm_access.roles``). Default ``groups``.
    role_values
        Claim value of each role id (default: the role id itself, e.g. ``rat``).
    database_urls
        ``postgresql://…`` of each role's database user; the app connects as
        the role of the logged-in user, so the database enforces its limits.
    audit_retention_days
        Audit entries are kept this many days; older ones are deleted by
        ``integrationsatlas server prune-audit`` (and refused before).
    time_limit_s
        Longest time one heavy computation (coverage, siting, report) may take
        for a request; then the page says so in German and the work is abandoned.
    heavy_slots
        Heavy computations that run at the same time in one app process; more
        wait in a queue and see their place.
    login_attempts, login_window_s
        At most this many login attempts per client address and window.
    privacy
        How sensitive layers are published to roles without exact access.
    """

    role_claim: str = "groups"
    role_values: Mapping[str, str] = field(default_factory=lambda: {r.id: r.id for r in ROLES})
    database_urls: Mapping[str, str] = field(default_factory=dict)
    audit_retention_days: int = 365
    time_limit_s: float = 300.0
    heavy_slots: int = 2
    login_attempts: int = 10
    login_window_s: float = 60.0
    privacy: PrivacyRule = field(default_factory=PrivacyRule)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> ServerConfig:
        """Build and check the settings from the ``[integrationsatlas]`` section.

        All problems are collected and raised together.

        >>> cfg = ServerConfig.from_mapping({"role_claim": "realm_access.roles", "roles": {"rat": "kreistag"}})
        >>> cfg.role_values["rat"], cfg.role_values["planung"]
        ('kreistag', 'planung')

        Raises
        ------
        DataError
            Naming every invalid key and how to fix it.
        """
        problems: list[str] = []
        known = {
            "role_claim",
            "roles",
            "database",
            "audit_retention_days",
            "time_limit_s",
            "heavy_slots",
            "login_attempts",
            "login_window_s",
            "privacy_cell_m",
            "privacy_k",
        }
        for key in section:
            if key not in known:
                problems.append(f"unbekannter Eintrag »{key}« (erlaubt: {', '.join(sorted(known))})")
        values = {r.id: r.id for r in ROLES}
        for key, value in dict(section.get("roles", {})).items():
            if key not in values:
                problems.append(f"[integrationsatlas.roles]: unbekannte Rolle »{key}« (erlaubt: {', '.join(values)})")
            elif not str(value).strip():
                problems.append(f"[integrationsatlas.roles]: leerer Claim-Wert für »{key}«")
            else:
                values[key] = str(value).strip()
        urls: dict[str, str] = {}
        for key, value in dict(section.get("database", {})).items():
            if key not in values:
                problems.append(f"[integrationsatlas.database]: unbekannte Rolle »{key}«")
            elif not str(value).startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
                problems.append(f"[integrationsatlas.database]: »{key}« ist keine postgresql://-Adresse")
            else:
                urls[key] = str(value)
        numbers = _numbers(
            section,
            problems,
            {
                "audit_retention_days": (int, 1),
                "time_limit_s": (float, 1),
                "heavy_slots": (int, 1),
                "login_attempts": (int, 1),
                "login_window_s": (float, 1),
                "privacy_cell_m": (float, PrivacyRule.MIN_CELL_M),
                "privacy_k": (int, PrivacyRule.MIN_K),
            },
        )
        claim = str(section.get("role_claim", "groups")).strip()
        if not claim:
            problems.append("role_claim ist leer (Voreinstellung: groups)")
        if problems:
            raise DataError(
                "Einstellungen [integrationsatlas] in .streamlit/secrets.toml ungültig: " + "; ".join(problems) + "."
            )
        rule = PrivacyRule(
            cell_m=float(numbers.pop("privacy_cell_m", PrivacyRule.MIN_CELL_M)),
            k=int(numbers.pop("privacy_k", PrivacyRule.MIN_K)),
        )
        return cls(role_claim=claim, role_values=values, database_urls=urls, privacy=rule, **numbers)

    @classmethod
    def from_secrets_file(cls, path: Path) -> ServerConfig:
        """Read ``[integrationsatlas]`` from a ``secrets.toml`` (for the CLI's server set-up)."""
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DataError(f"{path} nicht lesbar: {exc}. Pfad zur secrets.toml des Servers angeben.") from exc
        return cls.from_mapping(data.get("integrationsatlas", {}))

    def role_of(self, claims: Mapping[str, Any]) -> Role | None:
        """The (most capable) role the claims of a logged-in user name, or ``None``.

        >>> ServerConfig().role_of({"groups": ["rat", "planung"]}).id
        'planung'
        >>> ServerConfig(role_claim="realm_access.roles").role_of({"realm_access": {"roles": ["rat"]}}).id
        'rat'
        >>> ServerConfig().role_of({"groups": "verwaltung"}) is None
        True
        """
        value: Any = claims
        for part in self.role_claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return None
        held = {str(value)} if isinstance(value, str | int) else {str(v) for v in value if isinstance(v, str | int)}
        found = [r for r in ROLES if self.role_values.get(r.id, r.id) in held]
        return found[-1] if found else None

    def database_url(self, role_: Role) -> str:
        """The database address of ``role_``.

        Raises
        ------
        DataError
            If ``[integrationsatlas.database]`` has no address for the role.
        """
        url = self.database_urls.get(role_.id)
        if not url:
            raise DataError(
                f"Für die Rolle »{role_.id}« ist keine Datenbank eingetragen: in .streamlit/secrets.toml unter "
                f'[integrationsatlas.database] »{role_.id} = "postgresql://…"« ergänzen (README, Server).'
            )
        return url

    def database_users(self) -> dict[str, str]:
        """Role id → database user name (from the addresses), for grants and row-level security.

        >>> ServerConfig(database_urls={"rat": "postgresql://atlas_rat:pw@db/atlas"}).database_users()
        {'rat': 'atlas_rat'}
        """
        return {rid: database_user(url) for rid, url in self.database_urls.items()}


def database_user(url: str) -> str:
    """The user name of a ``postgresql://user:password@host/db`` address.

    Raises
    ------
    DataError
        If the address names no user.
    """
    user = unquote(urlsplit(url).username or "")
    if not user:
        raise DataError("Datenbank-Adresse ohne Benutzername: postgresql://BENUTZER:PASSWORT@host:5432/atlas angeben.")
    return user


def _numbers(section: Mapping[str, Any], problems: list[str], spec: Mapping[str, tuple[type, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (kind, minimum) in spec.items():
        if key not in section:
            continue
        raw = section[key]
        try:
            value = kind(raw)
            if isinstance(raw, bool) or (kind is int and float(raw) != int(raw)):
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"»{key}« muss eine Zahl sein, nicht {raw!r}")
            continue
        if value < minimum:
            problems.append(f"»{key}« muss mindestens {minimum:g} sein (ist {value:g})")
            continue
        out[key] = value
    return out


def roles_overview(roles: Sequence[Role] = ROLES) -> list[dict[str, str]]:
    """Rows ``{"Rolle": …, "Darf": …}`` for the README and the app's role overview."""
    return [
        {"Rolle": r.id, "Titel": r.title, "Darf": "; ".join(p.title for p in PERMISSIONS if r.allows(p))} for r in roles
    ]
