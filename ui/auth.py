"""Login with OpenID Connect (``st.login``) and the logged-in user's role, for a server.

With an ``[auth]`` section in ``.streamlit/secrets.toml`` the app requires a
login: an anonymous visitor sees only the login page (:func:`login_gate`), a
logged-in user gets the role named by the configured claim
(:class:`geo.access.ServerConfig`) and works with that role's database user
(:func:`session_settings`), so the database enforces what the role may do.
Pages ask :func:`allows` with a declared :class:`~geo.access.Permission`;
they never compare role names.

Without ``[auth]`` nothing changes: :func:`login_gate` returns ``None``,
:func:`allows` is always true and :func:`session_settings` returns the
settings unchanged (the single-user tool, or a database without login).
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import streamlit as st

from geo.access import Permission, Role, ServerConfig
from geo.errors import DataError, IntegrationsatlasError
from geo.settings import Settings
from geo.store import audit
from ui.i18n import current_language, t
from ui.markdown import md

#: Session key of the logged-in :class:`Principal`.
_PRINCIPAL: Final = "auth_principal"
#: Claims tried, in order, for the name recorded in the audit log.
_NAME_CLAIMS: Final = ("email", "preferred_username", "name", "sub")


@dataclass(frozen=True)
class Principal:
    """The logged-in user: name (for the audit log), subject, role and the role's database address."""

    name: str
    subject: str
    role: Role
    database_url: str


def _secrets() -> Mapping[str, Any]:
    try:
        return dict(st.secrets)
    except (FileNotFoundError, KeyError, IntegrationsatlasError):
        return {}
    except Exception as exc:  # streamlit raises its own error when there is no secrets.toml at all
        if type(exc).__name__ == "StreamlitSecretNotFoundError":
            return {}
        raise


def enabled() -> bool:
    """Whether this app requires a login (``[auth]`` in ``secrets.toml``)."""
    return bool(_secrets().get("auth"))


def server_config() -> ServerConfig:
    """The server settings from ``[integrationsatlas]`` (defaults when the section is absent)."""
    return ServerConfig.from_mapping(dict(_secrets().get("integrationsatlas", {})))


def current() -> Principal | None:
    """The logged-in user of this session (``None`` without login)."""
    value = st.session_state.get(_PRINCIPAL)
    return value if isinstance(value, Principal) else None


def allows(permission: Permission) -> bool:
    """Whether this session may do ``permission`` (always, without login)."""
    principal = current()
    return True if principal is None else principal.role.allows(permission)


def session_settings(base: Settings) -> Settings:
    """``base`` with the database of the logged-in user's role (unchanged without login)."""
    principal = current()
    return base if principal is None else replace(base, database_url=principal.database_url)


def request_info() -> dict[str, str]:
    """What the audit log records about the request: session, client address, browser, app process."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    info = {
        "session": ctx.session_id if ctx else "",
        "replica": f"{socket.gethostname()}:{st.get_option('server.port')}",
    }
    try:
        info["client"] = str(st.context.ip_address or "")
        info["browser"] = str(st.context.headers.get("User-Agent", ""))[:200]
    except (AttributeError, RuntimeError):
        pass
    return info


def login_gate() -> Principal | None:
    """Require a login when ``[auth]`` is configured; the logged-in user, or ``None`` without login.

    An anonymous visitor sees the login page and nothing else (the script
    stops); a user without a role sees why and can log out.
    """
    if not enabled():
        audit.set_actor(None)
        return None
    config = server_config()
    if not st.user.is_logged_in:
        st.session_state.pop(_PRINCIPAL, None)
        audit.set_actor(None)
        _login_page()
        st.stop()
    claims = st.user.to_dict()
    role = config.role_of(claims)
    name = next((str(claims[c]) for c in _NAME_CLAIMS if claims.get(c)), "unbekannt")
    if role is None:
        st.error(t("auth.no_role", name=name, claim=config.role_claim))
        st.button(t("auth.logout"), on_click=st.logout, key="auth_logout_norole")
        st.stop()
    try:
        url = config.database_url(role)
    except DataError as exc:
        st.error(md(exc))
        st.stop()
    principal = Principal(name=name, subject=str(claims.get("sub", name)), role=role, database_url=url)
    st.session_state[_PRINCIPAL] = principal
    audit.set_actor(_actor(principal))
    return principal


def _actor(principal: Principal) -> audit.Actor:
    """The logged-in user as the audit log records them, with this request."""
    return audit.Actor(principal.name, principal.role.id, request_info())


def _login_page() -> None:
    st.title(t("app.title"))
    st.info(t("auth.please_login"))
    st.button(t("auth.login"), type="primary", on_click=st.login, key="auth_login", icon=":material/login:")
    st.caption(t("auth.login_help"))


def sidebar(principal: Principal | None) -> None:
    """Who is logged in, with which role, and the logout button."""
    if principal is None:
        return
    role_title = principal.role.title if current_language() == "de" else principal.role.title_en
    st.sidebar.caption(t("auth.logged_in", name=principal.name, role=role_title))
    st.sidebar.button(t("auth.logout"), on_click=st.logout, key="auth_logout", icon=":material/logout:")


def record_open(cfg: Settings, layer_ids: tuple[str, ...], *, exact: bool | None = None) -> None:
    """Audit the first opening of each sensitive layer in this session (no-op without login)."""
    from geo.layers.registry import REGISTRY

    principal = current()
    if principal is None or not cfg.database_url:
        return
    seen: set[str] = st.session_state.setdefault("auth_opened", set())
    todo = [lid for lid in layer_ids if lid in REGISTRY and REGISTRY.get(lid).sensitive and lid not in seen]
    if not todo:
        return
    from geo.access import EXACT
    from geo.store.postgis import engine_for

    engine = engine_for(cfg.database_url)
    with audit.acting_as(_actor(principal)):
        for lid in todo:
            audit.record(engine, "open", layer_id=lid, detail={"exakt": principal.role.allows(EXACT)})
            seen.add(lid)


def opens_layers(layers_of: Callable[..., tuple[str, ...]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for a data wrapper: record the sensitive layers its arguments name (see :func:`record_open`).

    Put it above the cache decorator, so that every session's first use is
    recorded, also when the result comes from the cache.
    """

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        def inner(cfg: Settings, *args: Any, **kwargs: Any) -> Any:
            record_open(cfg, layers_of(cfg, *args, **kwargs))
            return func(cfg, *args, **kwargs)

        inner.__doc__, inner.__name__, inner.__wrapped__ = func.__doc__, func.__name__, func  # type: ignore[attr-defined]
        return inner

    return wrap


def on_download(cfg: Settings, what: str, name: str, layer_id: str | None = None) -> Callable[[], None] | str:
    """The ``on_click`` of a download button: record the export with login, else ``"ignore"`` (no rerun)."""
    if current() is None:
        return "ignore"
    return functools.partial(record_export, cfg, what, name, layer_id)


def record_export(cfg: Settings, what: str, name: str, layer_id: str | None = None) -> None:
    """Audit a download (export or report) of this session (no-op without login).

    Also called as a button callback, before :func:`login_gate` of the run: the actor is set here.
    """
    principal = current()
    if principal is None or not cfg.database_url:
        return
    from geo.store.postgis import engine_for

    with audit.acting_as(_actor(principal)):
        audit.record(engine_for(cfg.database_url), "export", layer_id=layer_id, detail={"inhalt": what, "datei": name})
