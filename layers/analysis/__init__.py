"""The analysis wing: what the store's layers say.

* ``coverage`` — dead corners (死角), blind spots (盲区) and supervision gaps (监管空白), per object, cell and area;
  the rule that makes an object a dead corner lives in ``coverage/rules.py``; ``coverage/__init__.py`` lists the
  other modules.
* ``summary`` — the city as loaded for the maps: selections, area figures, the risk index, object detail.
* ``keys`` — exact, fast look-up of which object a record names (``KeyIndex``).
"""
