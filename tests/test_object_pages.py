"""Every object page of a demo city renders (issue 13).

The object page's map clips roads to a box around the object: the clipped lines must still draw.
"""

from __future__ import annotations

import numpy as np
import shapely

from dashboard.components.mapfig import chain_lines, ring_coords


def test_chain_lines_skips_empty_parts():
    """Roads clipped to the object page's box leave empty lines (a road that only touches the box)."""
    box = shapely.box(0, 0, 10, 10)
    roads = np.array([shapely.LineString([(1, 1), (2, 2)]), shapely.LineString([(2, 2), (3, 1)]),
                      shapely.LineString([(20, 20), (30, 30)]), shapely.LineString([(5, 5), (6, 5)])], dtype=object)
    clipped = shapely.intersection(roads, box)
    assert shapely.is_empty(clipped).any()
    chained = chain_lines(clipped)
    assert len(chained) == 2
    assert shapely.equals(shapely.union_all(chained), shapely.union_all(roads[[0, 1, 3]]))
    x, _ = ring_coords(chained)
    assert np.isfinite(x).sum() == 3 + 2
    assert len(chain_lines(np.array([shapely.LineString()], dtype=object))) == 0
