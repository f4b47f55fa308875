"""The GDAL reader process of :mod:`layers.store.arrow`: run as a script (``python -I _gdal_reader.py``), never
imported by the app.

Its one argument names a file it creates once pyogrio is imported (the app's sign that it is ready).

It imports only pyogrio and pyarrow (not our package, not the app's main module as a ``multiprocessing`` spawn
would), so it starts in well under a second. It reads one JSON request a line on stdin, reads the layer with
``pyogrio.read_arrow`` and writes the Arrow table as an Arrow IPC file to the path the request names (on
``/dev/shm``: the app memory-maps it, no copy through a pipe), then answers one JSON line on stdout. It ends
when stdin closes (the app ended).

``IMMUTABLE=NO``: when the file is locked, GDAL otherwise retries with IMMUTABLE=YES, i.e. reads the main file
ignoring locks and the WAL (stale, possibly torn); with NO it fails with "database is locked".
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import pyarrow as pa
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    out = sys.stdout.buffer
    if len(sys.argv) > 1:   # says it has imported GDAL: the app may now send reads it would otherwise do itself
        open(sys.argv[1], "wb").close()
    for line in sys.stdin.buffer:
        req = json.loads(line)
        try:
            meta, table = pyogrio.read_arrow(req["path"], layer=req["layer"], columns=req["columns"],
                                             read_geometry=req["read_geometry"], where=req["where"],
                                             return_fids=True, IMMUTABLE="NO")
            with pa.OSFile(req["out"], "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            reply = {"ok": True, "geometry_name": meta.get("geometry_name"), "fid_column": meta.get("fid_column")}
        except (DataLayerError, DataSourceError) as exc:
            reply = {"ok": False, "gdal": True, "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the app, which decides
            reply = {"ok": False, "gdal": False, "message": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
