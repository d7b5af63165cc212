"""The app with login, page by page and role by role (Streamlit's AppTest, no browser).

``secrets.toml`` gets an ``[auth]`` section and the roles' database addresses of
a database set up for them (:mod:`server_support`); ``AppTest.user`` plays the
logged-in user the identity provider would send. Checks what each role sees and
may do, and that nothing raises. The browser tests with a real identity
provider are in :mod:`test_server_browser`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hostile import shown_text
from streamlit.testing.v1 import AppTest

from geo.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from server_support import ServerDb

pytest_plugins = ("store_backends", "server_support")

PAGES = ("ui/pages/karte.py", "ui/pages/luecken.py", "ui/pages/standort.py", "ui/pages/daten.py", "ui/pages/bericht.py")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    monkeypatch.delenv("INTEGRATIONSATLAS_DATABASE_URL", raising=False)


def app(db: ServerDb | None, user: dict[str, Any] | None) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180)
    at.secrets["auth"] = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "test-geheimnis-fuer-cookies",
        "client_id": "integrationsatlas",
        "client_secret": "x",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    at.secrets["integrationsatlas"] = {"database": dict(db.urls) if db else {}}
    if user is not None:
        at.user = user
    return at


def _texts(at: AppTest) -> str:
    """What the page shows: Markdown values with their escapes undone, and the button labels."""
    return " ".join(
        [shown_text(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.error, *at.warning, *at.title)]
        + [b.label for b in at.button]
    )


def _login(role: str) -> dict[str, Any]:
    return {"is_logged_in": True, "email": f"{role}@kreis.example", "sub": f"{role}@kreis.example", "groups": [role]}


@pytest.mark.usefixtures("env")
def test_anonymous_sees_the_login_page_only() -> None:
    at = app(None, {"is_logged_in": False})
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Anmelden"]
    assert "Bitte melden Sie sich" in _texts(at)
    assert not at.dataframe and not at.tabs


@pytest.mark.usefixtures("env")
def test_a_user_without_a_role_is_told_so(server_db: ServerDb) -> None:
    at = app(server_db, {"is_logged_in": True, "email": "gast@kreis.example", "groups": ["andere"]})
    at.run()
    assert not at.exception
    assert "hat keine Rolle" in _texts(at) and "Abmelden" in _texts(at)
    assert not at.dataframe


@pytest.mark.slow
@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("role", ["rat", "planung", "admin"])
def test_every_page_runs_for_every_role(server_db: ServerDb, role: str) -> None:
    at = app(server_db, _login(role))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert f"Angemeldet: {role}@kreis.example" in _texts(at)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])


@pytest.mark.slow
@pytest.mark.usefixtures("env")
def test_controls_follow_the_role(server_db: ServerDb) -> None:
    from server_support import kita_batch

    kita_batch(server_db)
    seen: dict[str, dict[str, Any]] = {}
    for role in ("rat", "planung", "admin"):
        at = app(server_db, _login(role))
        at.run()
        at.switch_page("ui/pages/daten.py").run()  # on a server only the open tab runs: the first
        assert not at.exception, [e.message for e in at.exception]
        seen[role] = {
            "tabs": [t.label for t in at.tabs],
            # the upload starts with the choice of its layer (no default, issue 20); the file field follows it
            "uploader": any(w.key == "daten_layer" for w in at.selectbox),
        }
        at.session_state["daten_tabs"] = "Importe verwalten"
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        seen[role]["delete"] = "daten_batch_delete" in {b.key for b in at.button}
        at.switch_page("ui/pages/standort.py").run()
        seen[role]["plan"] = any(b.key == "standort_run" for b in at.button)
    assert seen["rat"] == {"tabs": ["Bestand aller Ebenen", "Importe verwalten"], "uploader": False,
                           "delete": False, "plan": False}  # fmt: skip
    assert seen["planung"]["uploader"] and seen["planung"]["plan"] and not seen["planung"]["delete"]
    assert seen["admin"]["uploader"] and seen["admin"]["plan"] and seen["admin"]["delete"]
