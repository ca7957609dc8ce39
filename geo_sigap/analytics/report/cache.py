"""The rakor packs the /analisis page shows and downloads: built once per (quarter, area,
data version) into ``<cache_dir>/rakor/`` and read back from there (services layer)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _lock(key: str) -> threading.Lock:
    with _GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def pack_dir(root: Path, quarter: str, kecamatan: str | None, version: str) -> Path:
    tag = hashlib.sha1(version.encode()).hexdigest()[:12]
    return Path(root) / f"{quarter}_{kecamatan or 'semua'}_{tag}"


def cached_pack(services, quarter: str, kecamatan: str | None, root: Path,
                pdf: bool = False) -> dict:
    """``{"html": path, "pdf": path, "json": path, "gpkg": path}`` of the pack, building it when the
    data changed since the last build (one build at a time per pack); the PDF is printed
    only when ``pdf`` asks for it (the page itself needs the JSON only)."""
    from geo_sigap.analytics.frames import Quarter
    from geo_sigap.analytics.from_storage import data_version
    from geo_sigap.analytics.report.data import write_rakor_pack

    q = str(Quarter.parse(quarter))
    version = data_version(services.db)
    folder = pack_dir(root, q, kecamatan, version)
    stem = f"rakor_{q}" + (f"_{kecamatan}" if kecamatan else "")
    paths = {k: folder / f"{stem}.{k}" for k in ("html", "pdf", "json", "gpkg")}
    with _lock(str(folder)):
        wanted = [paths["html"], paths["json"], paths["gpkg"]] + ([paths["pdf"]] if pdf
                                                                   else [])
        if not all(p.exists() for p in wanted):
            folder.mkdir(parents=True, exist_ok=True)
            write_rakor_pack(services, q, kecamatan=kecamatan, out_dir=folder, pdf=pdf,
                             # the live map's hotspot result of each quarter: one
                             # computation
                             hotspots=lambda quarter: services.analytics.hex_hotspots(
                                 quarter, kecamatan))
    return paths


def read_json(paths: dict) -> dict:
    return json.loads(Path(paths["json"]).read_text("utf-8"))
