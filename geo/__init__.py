"""Geo layer of the Integrationsatlas NRW: load, validate and project data.

Nothing in this package imports Streamlit.
"""
