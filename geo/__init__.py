"""Spatial algorithms on arrays and GeoDataFrames (CRS, grids, nearest/within, road graphs, routing, siting).

Knows nothing of enterprises, the store or Dash.
"""
