"""The emergency pages' parts (kept out of ``dashboard/pages``, where Dash imports every module as a page).

* ``incident_text`` — the incident page's strings (zh, en).
* ``incident_figure`` — the incident map: routes, radii, pipelines, hazchem, venues, resources on the basemap.
* ``incident_panel`` — the first hour as HTML: resources per kind, around, the object; the incident list and sheet.
"""
