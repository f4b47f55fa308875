"""The import wing: files and OpenStreetMap extracts into the store, validated, with a row report.

``import_file`` reads a file (``readers``), maps and checks every column (``validate``), and writes the batch in
one transaction (``importer``); ``import_osm`` does the same for an ``.osm.pbf`` extract (``osm``).
"""

from layers.ingest.importer import EVENT_DATES, IMPORTABLE, ImportReport, RowIssue, import_file
from layers.ingest.osm import import_osm

__all__ = ["import_file", "import_osm", "ImportReport", "RowIssue", "IMPORTABLE", "EVENT_DATES"]
