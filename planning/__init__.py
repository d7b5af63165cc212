"""Planning modules: pure computation on GeoDataFrames and arrays in EPSG:25832.

Nothing in this package imports Streamlit.
"""
