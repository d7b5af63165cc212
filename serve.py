"""Integrationsatlas NRW as a server with login: ``streamlit run serve.py``.

The same app as ``streamlit run app.py``, with the rate limit of login attempts
in front of Streamlit's login routes (:mod:`ui.login_limit`). The login itself,
the roles and everything else are configured in ``.streamlit/secrets.toml``
(README, section "Betrieb auf einem Server").
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from ui.login_limit import LoginRateLimit

app = st.App("app.py", middleware=[Middleware(LoginRateLimit)])
