"""The readiness page's helpers (``/readiness``, 应急准备), kept out of ``dashboard/pages`` (Dash imports every
module there as a page). The page module is ``dashboard.pages.readiness``.

* ``text`` — every string of the page in zh and en, the export's column headers.
* ``view`` — the analysis as the session's user may see it (narrowed on the server), the data's date, the
  suggested places inside the selected area and why fewer than asked.
* ``tables`` — the cards' figures, the grids' rows and the export's sheets.
* ``figure`` — the MapLibre map: gap objects by gap type, resources by kind, suggested places.

Only ``text`` is imported here (the navigation bar needs the page's name); import the others by module.
"""

from dashboard.readiness import text as text  # noqa: F401  (registers the strings)
