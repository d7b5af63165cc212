"""Protokoll: the audit log for roles with the audit permission, and its export for the data-protection officer."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from geo.access import AUDIT
from geo.io.export import MIME_TYPES, export_frame
from geo.store.audit import audit_frame
from geo.store.postgis import engine_for
from ui import auth, cached
from ui.components import attribution_footer, table, user_errors
from ui.i18n import t


def render() -> None:
    """Render the Protokoll page."""
    st.title(t("nav.protokoll"))
    if not auth.allows(AUDIT) or auth.current() is None:
        st.warning(t("protokoll.not_allowed"))
        return
    cfg = cached.settings()
    config = auth.server_config()
    st.caption(t("protokoll.intro", days=config.audit_retention_days))
    with user_errors(t("nav.protokoll")):
        c1, c2 = st.columns(2)
        since = c1.date_input(t("protokoll.since"), date.today() - timedelta(days=30), key="protokoll_since")
        until = c2.date_input(t("protokoll.until"), date.today(), key="protokoll_until")
        start = datetime.combine(since, time.min, tzinfo=UTC)
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
        frame = audit_frame(engine_for(str(cfg.database_url)), start, end)
        st.metric(t("protokoll.entries"), len(frame))
        table(frame, hide_index=True, width="stretch", key="protokoll_table")
        name = f"Protokoll_{since.isoformat()}_{until.isoformat()}.csv"
        data = export_frame(frame, "csv", layer_name="Protokoll", attribution=("Integrationsatlas NRW, Protokoll",))
        st.download_button(
            t("protokoll.download"),
            data=data,
            file_name=name,
            mime=MIME_TYPES["csv"],
            icon=":material/download:",
            key="protokoll_download",
            on_click=auth.on_download(cfg, "Protokoll", name),  # type: ignore[arg-type]
        )
    attribution_footer()


if __name__ == "__main__":
    render()
