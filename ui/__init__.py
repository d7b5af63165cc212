"""The Streamlit user interface of the Integrationsatlas (only app.py and ui/ import Streamlit)."""
