"""``python -m layers demo --out postgresql://…``: the demo city in PostGIS is the GeoPackage's, frame for frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)

from layers.basemap import basemap_path
from layers.cli import main
from layers.demo.city import build_demo_store
from layers.schema import LAYERS
from layers.store import open_store


def test_demo_into_postgis_equals_the_geopackage_demo(pg_url, tmp_path, capsys):  # noqa: F811
    assert main(["demo", "--out", pg_url, "--enterprises", "150", "--seed", "3", "--no-basemap"]) == 0
    assert "wrote the demo city" in capsys.readouterr().out
    pg = open_store(pg_url, create=False)
    gp = build_demo_store(tmp_path / "city.gpkg", enterprises=150, seed=3)
    assert pg.counts() == gp.counts() and pg.count("enterprises") == 150
    for name in LAYERS:
        pd.testing.assert_frame_equal(gp.read(name), pg.read(name), obj=name)
    assert main(["demo", "--out", pg_url, "--enterprises", "150", "--no-basemap"]) == 1   # there: not overwritten
    assert "--force" in capsys.readouterr().out


def test_basemap_path_of_a_database_url_is_a_file_in_a_folder(tmp_path):
    a = basemap_path("postgresql://u:secret@db.example:5432/city")
    assert a.parent == Path("data") and a.name.startswith("city-") and a.name.endswith(".basemap.pmtiles")
    assert basemap_path("postgresql://u:other@db.example:5432/city") == a      # the password is not part of it
    assert basemap_path("postgresql://u@db.example:5432/town") != a
    assert basemap_path("postgresql://u@h/city", directory=tmp_path).parent == tmp_path
    assert basemap_path(tmp_path / "city.gpkg") == tmp_path / "city.basemap.pmtiles"
