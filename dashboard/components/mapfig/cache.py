"""A per-city (so per data version) cache of drawing inputs, kept in ``City.extra``."""

from __future__ import annotations


def cached(city, key: tuple, make):
    """A per-city (so per data version) cache of drawing inputs: hover texts, chained lines."""
    hit = city.extra.get(key)
    if hit is None:
        hit = make()
        city.extra[key] = hit
    return hit
