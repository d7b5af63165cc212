"""Heavy computations of logged-in users: queued with a visible place, one per user, time-limited.

:func:`heavy` wraps a cached data wrapper of :mod:`ui.cached` (below its cache
decorator, so results from the cache come at once). With login it runs the
computation through :func:`integrationsatlas.fairuse.run_heavy`: in this app
process at most ``heavy_slots`` at a time, one per user also across app
processes (a PostgreSQL advisory lock per login subject), the page shows the
place in the queue, and after ``time_limit_s`` the request ends with a German
message. Without login the wrapper calls straight through (the single-user tool).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import text

from integrationsatlas.fairuse import HeavyQueue, Place, checkpoint, run_heavy
from ui import auth
from ui.i18n import t

F = TypeVar("F", bound=Callable[..., Any])


@st.cache_resource(show_spinner=False)
def _queue(slots: int) -> HeavyQueue:
    """The queue of this app process."""
    return HeavyQueue(slots)


@contextmanager
def _user_lock(principal: auth.Principal) -> Iterator[bool]:
    """The user's lock across app processes: a session-level advisory lock on the role's database."""
    from geo.store.postgis import engine_for

    con = engine_for(principal.database_url).connect()
    key = {"k": f"atlas-heavy:{principal.subject}"}
    got = False
    try:
        got = bool(con.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), key).scalar_one())
        con.commit()
        yield got
    finally:
        if got:
            con.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), key)
            con.commit()
        con.close()


def heavy(label_key: str) -> Callable[[F], F]:
    """Decorator: run the wrapped computation as a heavy one of the logged-in user (see module docs)."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            principal = auth.current()
            if principal is None:
                return func(*args, **kwargs)
            progress = kwargs.get("_progress")
            if progress is not None:  # an abandoned computation stops at its next progress step

                def checked(*a: Any, **k: Any) -> Any:
                    checkpoint()
                    return progress(*a, **k)

                kwargs["_progress"] = checked
            config = auth.server_config()
            placeholder = st.empty()
            label = t(label_key)

            def on_wait(place: Place) -> None:
                if place.own_running:
                    placeholder.info(t("fairuse.own_running", label=label))
                else:
                    placeholder.info(t("fairuse.queued", label=label, position=place.position, running=place.running))

            from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

            ctx = get_script_run_ctx()

            def start(thread: threading.Thread) -> None:
                add_script_run_ctx(thread, ctx)
                thread.start()

            try:
                return run_heavy(
                    lambda: func(*args, **kwargs),
                    queue=_queue(config.heavy_slots),
                    user=principal.subject,
                    label=label,
                    time_limit_s=config.time_limit_s,
                    on_wait=on_wait,
                    user_lock=lambda: _user_lock(principal),
                    start_thread=start,
                )
            finally:
                placeholder.empty()

        return inner  # type: ignore[return-value]

    return wrap
