"""Copy a whole store into another, of either kind (GeoPackage <-> PostGIS): ``python -m layers copy-store``.

Every layer (users, sessions and wall tokens too: they are layers), the quarantine and the import log (their
times kept) and the time of the last import go over in one transaction of the destination, so a failed copy
leaves it as it was. The destination must be empty: a copy replaces, and the audit log can never be emptied.
Its data version is moved past both stores' (a cache keyed by the old one never takes the copy for it).
"""

from __future__ import annotations

from collections.abc import Callable

from layers.errors import StoreError
from layers.schema import LAYERS
from layers.store.base import Store


def is_empty(store: Store) -> bool:
    """No row in any layer, the quarantine or the import log."""
    return not any(store.counts().values()) and len(store.quarantined()) == 0 and len(store.imports()) == 0


def copy_store(src: Store, dst: Store, *, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Copy every layer and the bookkeeping of ``src`` into the empty ``dst``; rows copied per layer."""
    from layers.store import shown_url

    if not is_empty(dst):
        shown = shown_url(dst.url)
        raise StoreError(f"目标存储 {shown} 不是空的；复制只写入空存储 (the destination store {shown} is not empty; "
                         "a copy is written only into an empty store)")
    counts: dict[str, int] = {}
    with dst.transaction() as tx:
        for name in LAYERS:
            frame = src.read(name)
            if len(frame):
                tx.append(name, frame)
            counts[name] = len(frame)
            if progress is not None:
                progress(name, len(frame))
        tx.restore_bookkeeping(src.quarantined(), src.imports(), {"last_import": src.last_import()})
        tx.advance_data_version(max(src.data_version(), dst.data_version()))
    return counts


__all__ = ["copy_store", "is_empty"]
