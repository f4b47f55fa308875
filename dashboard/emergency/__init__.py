"""The emergency pages' parts (kept out of ``dashboard/pages``, where Dash imports every module as a page).

* ``incident_text`` — the incident page's strings (zh, en).
* ``incident_figure`` — the incident map: routes, radii, pipelines, hazchem, venues, resources on the basemap.
* ``incident_panel`` — the first hour as HTML: resources per kind, around, the object; the incident list and sheet.
* ``duty_text`` — the duty desk's and the flood mode's strings (zh, en).
* ``duty_panels`` — what the wall and the duty desk draw: the warning banner, the flood panel (counts per
  district, worst points) and the on-duty panel.
* ``duty_actions`` — the duty desk's server side: set or lift the warning (``duty`` grant), the warning history
  and the week's roster, each asking the access function first.
"""
