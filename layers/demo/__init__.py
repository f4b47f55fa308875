"""The demo city wing: a generated, deterministic city (seeded), scalable to a million enterprises.

``city`` assembles it from ``geography`` (land, districts, towns, water), ``network`` (roads, bridges, tunnels,
rail, gas), ``objects`` (enterprises, venues, departments, teams, resources, flood points), ``activity``
(inspections, hazards, accidents) and ``names``.
"""

from layers.demo.city import AS_OF, CITY_NAME, DEMO_PASSWORD, build_demo_store, generate_city, write_city

__all__ = ["AS_OF", "CITY_NAME", "DEMO_PASSWORD", "build_demo_store", "generate_city", "write_city"]
