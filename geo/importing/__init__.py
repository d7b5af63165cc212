"""Import of users' own files into the local data store.

The most common way real data gets into the atlas: a Kita list from the
Jugendamt as Excel, the addresses of the Integrationsagenturen as CSV, a
GeoPackage from the GIS department. :func:`import_file` reads the file
(:func:`geo.io.formats.read_table`), maps its columns onto the layer
declaration, finds out how the location is given, validates everything
(:func:`prepare_layer_frame`) and writes the valid rows to the
:class:`~geo.store.DataStore`.

Validation collects *all* problems, each naming the file, the row as the user
sees it in the spreadsheet, the column and the fix. The user chooses whether
invalid rows are dropped (``on_invalid="keep_valid"``) or the whole file is
rejected (``"reject"``); a rejected or failed import changes nothing.

Hostile and damaged files are refused before they are read (limits of
:class:`~geo.settings.Settings`: unpacked ZIP/XLSX size from the ZIP directory,
rows, cells, JSON nesting; :mod:`geo.io.limits`); the text encoding is decided
strictly (:func:`geo.io.text.decode_strict`); a coordinate or geometry that is
given but unusable is a problem of its row and never replaced by a postcode
centre; ids are checked again inside the store's write transaction, so two
imports of the same ids at the same moment cannot both succeed. See
``RELIABILITY.md``.

Text is stored exactly as given: a name containing HTML stays that text and
is escaped when it is shown, never interpreted.

Modules: :mod:`~geo.importing.files` (the import), :mod:`~geo.importing.prepare`
(column mapping and validation), :mod:`~geo.importing.locate` (coordinates,
geometries, postcodes), :mod:`~geo.importing.boundaries` (VG250 boundaries),
:mod:`~geo.importing.result`.
"""

from geo.importing.files import import_file
from geo.importing.prepare import map_columns, prepare_layer_frame
from geo.importing.result import ImportResult
from geo.io.formats import detect_format, read_table
from geo.io.text import decode_text, parse_number, sniff_separator

__all__ = [
    "ImportResult",
    "decode_text",
    "detect_format",
    "import_file",
    "map_columns",
    "parse_number",
    "prepare_layer_frame",
    "read_table",
    "sniff_separator",
]
