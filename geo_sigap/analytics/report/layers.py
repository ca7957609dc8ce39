"""The data behind the rakor pack as one GeoPackage (EPSG:4326) for QGIS: every table as
a layer ``tabel_NN_<title>`` (polygons or points where its rows are places: RW, kelurahan,
a late report's spot, a post's move; a plain attribute table otherwise) and the map
layers (the hex cells with their hotspot class and pattern, named by RW/kelurahan).

No personal data: the tables are those printed in the pack.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

CRS = "EPSG:4326"


def layer_name(number: int, title: str) -> str:
    """``(1, "Titik panas triwulan ini, per RW")`` → ``"tabel_01_titik_panas_triwulan_ini_per_rw"``."""
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words, slug = re.findall(r"[a-z0-9]+", t), ""
    for w in words:  # whole words only, up to 40 characters
        if len(slug) + len(w) + 1 > 40:
            break
        slug = f"{slug}_{w}" if slug else w
    return f"tabel_{number:02d}_{slug}" if slug else f"tabel_{number:02d}"


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Values a GeoPackage column can hold (numbers stay numbers, the rest text)."""
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        col = df[c]
        name = str(c)
        if pd.api.types.is_bool_dtype(col):
            out[name] = col.map({True: "ya", False: "tidak"})
        elif pd.api.types.is_numeric_dtype(col):
            out[name] = col
        else:
            out[name] = [None if v is None or (isinstance(v, float) and not np.isfinite(v))
                         else str(v) for v in col]
    return out


def write_geopackage(pack, path: Path) -> dict[str, str]:
    """Write ``path`` (replaced) and return table key → layer name."""
    path = Path(path)
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    # a temporary file renamed whole at the end: no fsync at each of the ~16 layer
    # commits (GDAL's SQLite default), which is most of the writing's time on a busy disk
    with _sqlite_unsynced():
        names = _write_layers(pack, tmp)
    tmp.replace(path)
    return names


@contextlib.contextmanager
def _sqlite_unsynced():
    import pyogrio

    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})


def _write_layers(pack, tmp: Path) -> dict[str, str]:
    import geopandas as gpd
    import pyogrio

    names = {}
    for t in sorted(pack.tables.values(), key=lambda t: t.number):
        name = layer_name(t.number, t.title)
        names[t.key] = name
        df = _plain(t.df)
        if not len(df.columns):
            df = pd.DataFrame({"keterangan": pd.Series(dtype=str)})
        geom = getattr(t, "geometry", None)
        if geom is not None and len(geom) == len(df):
            gdf = gpd.GeoDataFrame(df, geometry=list(geom), crs=CRS)
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", append=tmp.exists())
        else:
            pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG", append=tmp.exists())
    for name, gdf in getattr(pack, "layers", {}).items():
        pyogrio.write_dataframe(gdf.to_crs(CRS), tmp, layer=name, driver="GPKG",
                                append=tmp.exists())
    return names


def one_layer(src: Path, layer: str, out: Path) -> int:
    """Copy ``layer`` of ``src`` into a GeoPackage of its own at ``out``; its rows."""
    import pyogrio

    df = pyogrio.read_dataframe(src, layer=layer)
    out.unlink(missing_ok=True)
    pyogrio.write_dataframe(df, out, layer=layer, driver="GPKG")
    return len(df)
