"""Area sets: named sets of areas below or across the Gemeinden as analysis levels.

Cities plan by Stadtteil, Sozialraum, Schulbezirk or Planungsraum. Any polygon
file with a key and a name column becomes a named **area set**
(:func:`import_area_set`): checked (valid polygons, inside NRW, the Gemeinde
each area belongs to, overlaps and gaps with figures; :mod:`~geo.areasets.checks`)
and stored with source, licence and date as a restorable batch of the data
store on either backend (:mod:`~geo.areasets.storage`). An area set is then a
level like the Kreise and Gemeinden (:mod:`geo.levels`): in ``--by``, gap
tables and rankings, maps, siting rules, the report and the exports.
"""

from geo.areasets.checks import AreaSetCheck, check_area_set, detect_columns
from geo.areasets.importing import AreaSetImport, import_area_set
from geo.areasets.storage import (
    AreaSet,
    area_set,
    area_sets,
    check_name,
    delete_area_set,
    is_area_set_layer,
    layer_id_of,
    load_area_set,
)

__all__ = [
    "AreaSet",
    "AreaSetCheck",
    "AreaSetImport",
    "area_set",
    "area_sets",
    "check_area_set",
    "check_name",
    "delete_area_set",
    "detect_columns",
    "import_area_set",
    "is_area_set_layer",
    "layer_id_of",
    "load_area_set",
]
