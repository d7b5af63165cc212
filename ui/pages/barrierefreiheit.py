"""Erklärung zur Barrierefreiheit (BITV NRW): status, known limits, feedback contact, enforcement."""

from __future__ import annotations

import streamlit as st

from ui import cached
from ui.components import attribution_footer
from ui.i18n import t
from ui.markdown import md

#: The Land's enforcement body (Durchsetzungsverfahren, § 10 BITV NRW / § 10e BGG NRW).
OMBUDSSTELLE = (
    "Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen bei der Beauftragten "
    "der Landesregierung für Menschen mit Behinderung sowie für Patientinnen und Patienten, "
    "Fürstenwall 25, 40219 Düsseldorf, ombudsstelle-barrierefreie-it@mags.nrw.de"
)


def render() -> None:
    """Render the accessibility statement."""
    st.title(t("a11y.title"))
    st.markdown(t("a11y.scope"))
    st.subheader(t("a11y.status_heading"))
    st.markdown(t("a11y.status"))
    st.subheader(t("a11y.limits_heading"))
    st.markdown(t("a11y.limits"))
    st.subheader(t("a11y.made_heading"))
    st.markdown(t("a11y.made"))
    st.subheader(t("a11y.feedback_heading"))
    contact = cached.settings().feedback_contact
    st.markdown(t("a11y.feedback"))
    if contact:
        st.markdown(t("a11y.contact", contact=contact))
    else:
        st.markdown(t("a11y.contact_unset"))
    st.subheader(t("a11y.enforcement_heading"))
    st.markdown(t("a11y.enforcement"))
    st.markdown(md(OMBUDSSTELLE))
    attribution_footer()


if __name__ == "__main__":
    render()
