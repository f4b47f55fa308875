"""The planning wing: who inspects what, when.

* ``routes`` — candidates from the coverage gaps, teams, travel times and the VROOM routes (``Plan``).
* ``saved`` — saved, versioned plans and completions recorded on their stops.
* ``sheets`` — route sheets and plan tables (XLSX/CSV, formula-safe).
* ``random_draw`` — the double-random draw (双随机), repeatable from its seed.
"""

from layers.planning import random_draw, routes, saved, sheets
from layers.planning.routes import Plan, TeamSpec

__all__ = ["routes", "saved", "sheets", "random_draw", "Plan", "TeamSpec"]
