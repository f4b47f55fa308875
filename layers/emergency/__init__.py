"""The emergency wing (应急): being ready when prevention fails.

* ``incident`` — the first hour of an incident (突发事件): :func:`first_hour` (nearest ready resources by road with
  their routes, hazchem enterprises and gas pipelines within the radius, venues and schools to warn, the
  object's plan, last drill, open hazards and supervising departments), and the record: :func:`open_incident`,
  :func:`close_incident`, :func:`incidents_list`, :func:`incident_record`; for the page
  :func:`ready_resources`, :func:`area_bounds`, :func:`search_objects`, :func:`object_name`.
* ``incident_sheet`` — the one-page incident sheet as data and as XLSX (:func:`incident_sheet`,
  :func:`incident_sheet_xlsx`).
"""

from layers.emergency.incident import (
    FirstHour,
    area_bounds,
    close_incident,
    first_hour,
    incident_record,
    incidents_list,
    needed_kinds,
    object_name,
    open_incident,
    ready_resources,
    search_objects,
)
from layers.emergency.incident_sheet import IncidentSheet, incident_sheet, incident_sheet_xlsx

__all__ = ["FirstHour", "first_hour", "open_incident", "close_incident", "incidents_list", "incident_record",
           "needed_kinds", "ready_resources", "area_bounds", "search_objects", "object_name", "IncidentSheet",
           "incident_sheet", "incident_sheet_xlsx"]
