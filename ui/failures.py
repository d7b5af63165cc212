"""The last line of defence: an unexpected exception becomes a short German message.

The pages catch the project's own errors (:func:`ui.components.user_errors`);
anything else is a bug. Streamlit would show its English error box (»This app
has encountered an error … Ask Google«). :func:`guarded` runs the page instead,
logs the traceback on the server with a short reference id and shows the user
a German message with the same id, so a report from the user finds the log
line. ``st.rerun``/``st.stop`` are not exceptions (``BaseException``) and pass.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import streamlit as st

from ui.i18n import t

logger = logging.getLogger(__name__)

#: The log line of an unexpected error starts with this (the monkey test reads the server log for it).
LOG_PREFIX = "Unerwarteter Fehler"


def reference_id() -> str:
    """A short id to quote, e.g. ``"F-7K3Q9P"`` (no 0/O, 1/I)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "F-" + "".join(secrets.choice(alphabet) for _ in range(6))


def guarded(run: Callable[[], object]) -> None:
    """Run ``run``; show an unexpected exception as a German message with a reference id."""
    try:
        run()
    except Exception:
        ref = reference_id()
        logger.exception("%s %s", LOG_PREFIX, ref)
        st.error(t("failure.message", ref=ref), icon=":material/error:")
