"""OSM exports in the importer: only the objects a layer is about go in, and the rest is named.

A file exported from OpenStreetMap (GeoJSON or CSV with tag columns such as
``amenity``) usually mixes kinds: the Aachen export of issue 20 had 94 Kitas
beside 88 places of worship, 62 schools and 19 archives and libraries, and all
342 went in as »Kitas«. When the table carries OSM tags and the target layer
has an OSM category (:data:`geo.sources.osm.CATEGORIES`, the same selection as
``integrationsatlas fetch osm-kita``), :func:`select_for_layer` keeps the rows
the category selects and returns a German note that counts what was left out.
"""

from __future__ import annotations

import pandas as pd

from geo.errors import DataError
from geo.formatting import de_int
from geo.sources.osm import CATEGORIES, OsmCategory

#: Columns that mark a table as an OSM export (any one of them, plus a tag column of a category).
OSM_MARKERS = ("osm_id", "osm_type", "@id", "@type", "id_osm")
#: Tag columns whose values name what a left-out object was.
KIND_TAGS = ("amenity", "social_facility", "office", "shop", "leisure", "building", "tourism")


def category_for_layer(layer_id: str) -> OsmCategory | None:
    """The OSM category that fills ``layer_id``, if any."""
    return next((c for c in CATEGORIES.values() if c.layer_id == layer_id), None)


def is_osm_table(table: pd.DataFrame) -> bool:
    """Whether ``table`` is an OSM export: an OSM id/type column and at least one category tag column."""
    columns = set(table.columns)
    tag_keys = {key for c in CATEGORIES.values() for key in c.tags}
    return bool(columns & set(OSM_MARKERS)) and bool(columns & tag_keys)


def _kind(table: pd.DataFrame) -> pd.Series:
    """``key=value`` of the first kind tag of each row (``ohne Art`` when none is set)."""
    out = pd.Series("ohne Art-Tag", index=table.index, dtype="string")
    for key in reversed(KIND_TAGS):
        if key in table.columns:
            value = table[key].astype("string").str.strip()
            out = out.mask(value.notna() & (value != ""), key + "=" + value)
    return out


def select_for_layer(table: pd.DataFrame, layer_id: str, file: str) -> tuple[pd.DataFrame, str | None]:
    """The rows of an OSM export that belong to ``layer_id``, and a note on what was left out.

    Parameters
    ----------
    table
        The file's rows (index: row position, kept so that problems name the file's rows).
    layer_id
        Target layer.
    file
        File name for the messages.

    Returns
    -------
    (pandas.DataFrame, str or None)
        The selected rows (``attrs`` kept) and a German note, or the table
        unchanged and ``None`` when it is no OSM export or the layer has no
        OSM category.

    Raises
    ------
    DataError
        When no row belongs to the layer; the message says what the file holds.
    """
    category = category_for_layer(layer_id)
    if category is None or not is_osm_table(table):
        return table, None
    keep = category.select(table).to_numpy(dtype=bool)
    left_out = _kind(table[~keep]).value_counts()
    summary = ", ".join(f"{de_int(n)} × {kind}" for kind, n in left_out.head(6).items())
    if len(left_out) > 6:
        summary += f" und {de_int(left_out.iloc[6:].sum())} weitere"
    if not keep.any():
        raise DataError(
            f"Datei {file}: keines der {de_int(len(table))} OSM-Objekte gehört in diese Ebene "
            f"({category.title}). Enthalten: {summary}. Bitte die passende Ebene wählen."
        )
    selected = table[keep]
    selected.attrs = dict(table.attrs)
    if not len(left_out):
        return selected, None
    note = (
        f"OSM-Export erkannt: {de_int(int(keep.sum()))} von {de_int(len(table))} Objekten sind "
        f"{category.title} und werden übernommen; weggelassen: {summary}."
    )
    return selected, note
