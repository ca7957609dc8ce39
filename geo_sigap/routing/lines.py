"""Road-line files (GeoJSON, Shapefile, GeoPackage) read as OSM-style ways.

Real road files name their columns in many ways: OSM exports ``highway/name/oneway``,
Geofabrik shapefiles ``fclass/name/oneway`` (``F``/``T``/``B``), BIG RBI ``REMARK``
("Jalan Arteri", "Jalan Lokal", …) and ``NAMRJL``, local files ``TYPE``, ``JENIS``,
``KELAS``, ``NAMA``, ``ONEWAY`` (``FT``/``TF``). Columns are matched case-insensitively
against the synonyms in :data:`SYNONYMS`, or named explicitly with
:class:`RoadOptions` (``--map highway=TYPE``). Road classes and one-way values are read
into OSM values; a file whose road classes cannot be read is refused (never every road
a two-way residential street).

Line ends that stop a few metres short of another road (digitising gaps) are joined
within :attr:`RoadOptions.snap_tolerance_m`: only *dangling* ends (touching no other
line) move, so roads that cross at different levels without a nearby end stay apart.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo_sigap.errors import ConfigError, ImportFailed

DEFAULT_SNAP_TOLERANCE_M = 3.0
# lines whose class is missing or unreadable: dropped (and reported) up to this share of
# the file; above it the file is refused
MAX_UNREAD_SHARE = 0.02

# field → column names tried, most specific first (compared lower-case, ignoring "_")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "highway": ("highway", "fclass", "road_class", "roadclass", "road_type", "roadtype",
                "class", "type", "jenis_jalan", "jenis", "fungsi_jalan", "fungsi", "fgsrjl",
                "remark", "kelas_jalan", "kelas", "kategori", "klasifikasi", "tipe", "status",
                "hwy"),
    "oneway": ("oneway", "one_way", "satu_arah", "arah"),
    "name": ("name", "nama_jalan", "namajalan", "nama", "namrjl", "nm_jalan", "namobj",
             "street_name", "street", "road_name", "jalan", "label"),
    "maxspeed": ("maxspeed", "max_speed", "speed_limit", "speedlimit", "batas_kecepatan",
                 "kecepatan", "kec_maks"),
    "toll": ("toll", "tol", "is_toll", "jalan_tol"),
    "layer": ("layer", "level_jalan"),
    "bridge": ("bridge", "jembatan"),
    "tunnel": ("tunnel", "terowongan"),
}
# OSM tags passed through when a column of that name exists
PASS_TAGS = ("motorcycle", "motorcar", "motor_vehicle", "vehicle", "access", "service",
             "junction", "area")
FIELDS = tuple(SYNONYMS) + PASS_TAGS

OSM_CLASSES = frozenset("""
motorway trunk primary secondary tertiary motorway_link trunk_link primary_link secondary_link
tertiary_link unclassified residential living_street service alley pedestrian track
bus_guideway busway escape raceway road footway bridleway steps corridor path cycleway
construction proposed platform elevator rest_area services via_ferrata
""".split())
NOT_ROAD = "-"  # a line that is not a road (railway, river …): dropped, counted
# words in Indonesian/English class names, first match wins
_CLASS_WORDS: tuple[tuple[str, str], ...] = (
    ("kereta", NOT_ROAD), ("rel", NOT_ROAD), ("railway", NOT_ROAD), ("sungai", NOT_ROAD),
    ("tol", "motorway"), ("toll", "motorway"), ("bebas hambatan", "motorway"),
    ("freeway", "motorway"), ("expressway", "motorway"),
    ("arteri", "primary"), ("arterial", "primary"),
    ("kolektor", "secondary"), ("collector", "secondary"),
    ("lokal", "tertiary"), ("local", "tertiary"),
    ("lingkungan", "residential"), ("setapak", "path"), ("footpath", "path"),
    ("gang", "alley"), ("lorong", "alley"),
    ("nasional", "trunk"), ("provinsi", "primary"), ("kabupaten", "secondary"),
    ("kota", "secondary"), ("desa", "residential"), ("lain", "residential"),
    ("lainnya", "residential"),
)
_EMPTY = frozenset({"", "none", "null", "nan", "unknown", "-", "?"})
_ONEWAY_FORWARD = frozenset({"yes", "y", "ya", "true", "1", "ft", "forward", "satu arah",
                             "1 arah", "searah"})
_ONEWAY_REVERSE = frozenset({"-1", "tf", "reverse", "backward", "berlawanan"})
_ONEWAY_BOTH = frozenset({"no", "n", "tidak", "false", "0", "b", "both", "dua arah", "2 arah"})
_TRUE = frozenset({"yes", "y", "ya", "true", "t", "1", "tol", "jalan tol"})


@dataclass(frozen=True)
class RoadOptions:
    """How to read a road file.

    ``columns`` maps a field (``highway``, ``oneway``, ``name``, ``maxspeed``, ``toll``
    …) to the file's column; ``values`` maps a field to ``{file value: OSM value}``
    (``{"highway": {"jalan desa": "residential"}}``, keys compared lower-case);
    ``snap_tolerance_m`` joins dangling line ends within that many metres (0: never).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M

    @classmethod
    def parse(cls, items: Iterable[str] = (), *,
              snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M) -> RoadOptions:
        """From ``--map`` items: ``field=COLUMN`` or ``field:file value=OSM value``."""
        columns: dict[str, str] = {}
        values: dict[str, dict[str, str]] = {}
        for raw in items:
            item = str(raw).strip()
            if not item:
                continue
            key, sep, target = item.partition("=")
            fld, colon, src_value = key.partition(":")
            fld = fld.strip().lower()
            if not sep or not target.strip() or fld not in FIELDS or (colon and not src_value):
                raise ConfigError(
                    f"Pemetaan kolom jalan tidak sah: {item!r}. Bentuknya FIELD=KOLOM "
                    f"(mis. highway=TYPE) atau FIELD:NILAI=NILAI_OSM (mis. "
                    f"\"highway:Jalan Desa=residential\"); FIELD salah satu dari: "
                    f"{', '.join(FIELDS)}",
                    f"Invalid road column mapping: {item!r}. Use FIELD=COLUMN (e.g. "
                    f"highway=TYPE) or FIELD:VALUE=OSM_VALUE (e.g. "
                    f"\"highway:Jalan Desa=residential\"); FIELD one of: {', '.join(FIELDS)}",
                )
            if colon:
                values.setdefault(fld, {})[_norm_value(src_value)] = target.strip().lower()
            else:
                columns[fld] = target.strip()
        if not (snap_tolerance_m >= 0 and math.isfinite(snap_tolerance_m)):
            raise ConfigError(
                f"Toleransi penyambungan ujung jalan harus ≥ 0 meter, bukan {snap_tolerance_m!r}",
                f"The road end snap tolerance must be ≥ 0 metres, not {snap_tolerance_m!r}",
            )
        return cls(columns=columns, values=values, snap_tolerance_m=float(snap_tolerance_m))

    def fingerprint(self) -> str:
        """Short hash of everything that changes the built graph (cache key)."""
        text = json.dumps({"c": dict(self.columns), "v": {k: dict(v) for k, v in
                                                         self.values.items()},
                           "s": self.snap_tolerance_m}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass
class RoadLines:
    """Lines read from a file: OSM-style tags and lon/lat coordinates (EPSG:4326)."""

    tags: list[dict[str, Any]]
    coords: list[np.ndarray]
    label: str
    source_columns: dict[str, str | None]
    oneway_encoding: str | None = None
    dropped: dict[str, int] = field(default_factory=dict)
    unread_classes: dict[str, int] = field(default_factory=dict)
    node_ids: list[tuple[int, int]] | None = None  # (u, v) per line: an osmnx edge list
    columns_found: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ columns
def _norm_col(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower())


def resolve_columns(columns: Sequence[str], options: RoadOptions) -> dict[str, list[str]]:
    """Field → candidate columns of the file, best first (one when mapped explicitly).

    Raises
    ------
    ImportFailed
        A column named in ``options.columns`` is not in the file.
    """
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm_col(c), c)
        by_norm.setdefault(_norm_col(c).replace("_", ""), c)
    out: dict[str, list[str]] = {}
    for fld in FIELDS:
        if fld in options.columns:
            want = options.columns[fld]
            col = by_norm.get(_norm_col(want)) or by_norm.get(_norm_col(want).replace("_", ""))
            if col is None:
                raise ImportFailed(
                    f"Kolom {want!r} (untuk {fld}) tidak ada di berkas jalan. Kolom yang ada: "
                    f"{', '.join(map(str, columns))}",
                    f"Column {want!r} (for {fld}) is not in the road file. Columns found: "
                    f"{', '.join(map(str, columns))}",
                )
            out[fld] = [col]
            continue
        names = SYNONYMS.get(fld, (fld,))
        cands: list[str] = []
        for n in names:
            col = by_norm.get(n) or by_norm.get(n.replace("_", ""))
            if col is not None and col not in cands:
                cands.append(col)
        out[fld] = cands
    return out


# ------------------------------------------------------------------ values
def _norm_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if float(value).is_integer():
            return str(int(value))
    if isinstance(value, list | tuple | np.ndarray):
        return _norm_value(value[0]) if len(value) else ""
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    if re.fullmatch(r"-?\d+\.0+", text):  # "1.0", "-1.0" from a text column
        text = text.split(".")[0]
    if text.startswith("[") and text.endswith("]"):  # osmnx export: "['primary' 'trunk']"
        tokens = re.findall(r"[\w\-]+", text)
        return tokens[0] if tokens else ""
    return text


def read_class(value: Any, user: Mapping[str, str] | None = None) -> str | None:
    """OSM highway class for a file's class value; ``None`` when unreadable/empty;
    :data:`NOT_ROAD` for lines that are not roads."""
    v = _norm_value(value)
    if user and v in user:
        return user[v]
    if v in _EMPTY:
        return None
    v = v.replace(" ", "_") if v.replace(" ", "_") in OSM_CLASSES else v
    if v in OSM_CLASSES:
        return v
    if v.startswith("track_grade"):  # Geofabrik
        return "track"
    words = re.findall(r"[a-z]+", v.replace("jalan", " ").replace("jln", " "))
    text = " ".join(words)
    for word, cls in _CLASS_WORDS:
        if (" " in word and word in text) or word in words:
            return cls
    return None


def read_oneway(value: Any, geofabrik: bool, user: Mapping[str, str] | None = None
                ) -> str | None:
    """``"yes"`` (along the line), ``"-1"`` (against it), ``"no"``; ``None``: unreadable.

    ``geofabrik``: ``F`` forward, ``T`` backward, ``B`` both (Geofabrik shapefiles);
    otherwise ``T``/``F`` are true/false.
    """
    v = _norm_value(value)
    if user and v in user:
        v = _norm_value(user[v])
    if v in ("", "nan", "none", "null"):
        return "no"
    if v in ("f", "t"):
        if geofabrik:
            return "yes" if v == "f" else "-1"
        return "yes" if v == "t" else "no"
    if v in _ONEWAY_FORWARD:
        return "yes"
    if v in _ONEWAY_REVERSE:
        return "-1"
    if v in _ONEWAY_BOTH:
        return "no"
    return None


# ------------------------------------------------------------------ reading
def read_lines(source: Any, options: RoadOptions | None = None) -> RoadLines:
    """Read a road-line file (or GeoDataFrame) into OSM-style tags per line.

    Raises
    ------
    ImportFailed
        The file cannot be read, has no column of road classes, or too many lines
        whose class or direction cannot be read (the message lists the columns
        found and the values not understood).
    """
    import geopandas as gpd
    import shapely

    options = options or RoadOptions()
    if isinstance(source, gpd.GeoDataFrame):
        gdf, label = source, "<GeoDataFrame>"
    else:
        label = str(source)
        try:
            gdf = _read_frame(source)
        except Exception as exc:  # noqa: BLE001
            raise ImportFailed(
                f"Berkas garis jalan tidak dapat dibaca: {source} ({exc})",
                f"Cannot read the road lines file: {source} ({exc})",
            ) from exc
    if gdf.crs is None:
        b = gdf.total_bounds
        if len(gdf) and not (-180 <= b[0] <= 180 and -90 <= b[1] <= 90 and
                             -180 <= b[2] <= 180 and -90 <= b[3] <= 90):
            raise ImportFailed(
                f"Berkas jalan {label} tanpa sistem koordinat dan koordinatnya bukan derajat "
                "lon/lat; simpan ulang dengan CRS (mis. berkas .prj)",
                f"Road file {label} has no coordinate system and its coordinates are not "
                "lon/lat degrees; save it again with a CRS (e.g. a .prj file)",
            )
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[gdf.geometry.notna()].explode(index_parts=False)
    gdf = gdf[gdf.geometry.geom_type == "LineString"].reset_index(drop=True)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    cands = resolve_columns(cols, options)
    n = len(gdf)
    values = options.values

    # road class: the first candidate column that reads best
    hw_col, hw = _pick_class_column(gdf, cands["highway"], values.get("highway"))
    if hw_col is None:
        tried = ", ".join(SYNONYMS["highway"][:12])
        raise ImportFailed(
            f"Kelas jalan tidak dapat dibaca dari {label}: tidak ada kolom kelas jalan "
            f"yang dikenali. Kolom yang ada: {', '.join(map(str, cols)) or '(tidak ada)'}. "
            f"Sebutkan kolomnya dengan --map highway=KOLOM (nama yang dicoba: {tried} …)",
            f"Cannot read road classes from {label}: no road class column recognised. "
            f"Columns found: {', '.join(map(str, cols)) or '(none)'}. Name it with "
            f"--map highway=COLUMN (names tried: {tried} …)",
            columns=cols,
        )
    raw_cls = gdf[hw_col].tolist()
    unread = Counter(_norm_value(v) or "(kosong)" for v, c in zip(raw_cls, hw, strict=True)
                     if c is None)
    n_unread = sum(unread.values())
    if n and n_unread > MAX_UNREAD_SHARE * n:
        shown = ", ".join(f"{v!r} ({k})" for v, k in unread.most_common(8))
        raise ImportFailed(
            f"Kelas jalan tidak dapat dibaca dari {label}: {n_unread:,} dari {n:,} garis "
            f"di kolom {hw_col!r} bernilai tidak dikenal: {shown}. Kolom yang ada: "
            f"{', '.join(map(str, cols))}. Petakan nilainya, mis. "
            f"--map \"highway:{next(iter(unread))}=residential\", atau pilih kolom lain "
            f"dengan --map highway=KOLOM",
            f"Cannot read road classes from {label}: {n_unread:,} of {n:,} lines in column "
            f"{hw_col!r} hold unknown values: {shown}. Columns found: "
            f"{', '.join(map(str, cols))}. Map the values, e.g. "
            f"--map \"highway:{next(iter(unread))}=residential\", or choose another column "
            f"with --map highway=COLUMN",
            columns=cols, unknown=dict(unread),
        )

    # one-way
    ow_col = cands["oneway"][0] if cands["oneway"] else None
    oneway: list[str | None] = ["no"] * n
    encoding = None
    if ow_col is not None:
        raw_ow = gdf[ow_col].tolist()
        seen = {_norm_value(v) for v in raw_ow}
        geofabrik = "b" in seen or _norm_col(hw_col) == "fclass"
        encoding = ("F/T/B (Geofabrik: F searah garis, T berlawanan)" if geofabrik and
                    seen & {"f", "t"} else "yes/no/1/-1/FT/TF")
        oneway = [read_oneway(v, geofabrik, values.get("oneway")) for v in raw_ow]
        bad = Counter(_norm_value(v) for v, o in zip(raw_ow, oneway, strict=True) if o is None)
        if n and sum(bad.values()) > MAX_UNREAD_SHARE * n:
            shown = ", ".join(f"{v!r} ({k})" for v, k in bad.most_common(8))
            raise ImportFailed(
                f"Arah jalan (satu arah) tidak dapat dibaca dari kolom {ow_col!r} di {label}: "
                f"{shown}. Nilai yang dikenal: yes/no, 1/-1/0, true/false, FT/TF/B, F/T. "
                f"Petakan nilainya, mis. --map \"oneway:{next(iter(bad))}=yes\"",
                f"Cannot read one-way values from column {ow_col!r} in {label}: {shown}. "
                f"Known values: yes/no, 1/-1/0, true/false, FT/TF/B, F/T. Map them, e.g. "
                f"--map \"oneway:{next(iter(bad))}=yes\"",
                columns=cols,
            )

    def column(fld: str) -> tuple[str | None, list[Any]]:
        col = cands[fld][0] if cands.get(fld) else None
        return col, (gdf[col].tolist() if col is not None else [None] * n)

    name_col, names = column("name")
    speed_col, speeds = column("maxspeed")
    toll_col, tolls = column("toll")
    layer_col, layers = column("layer")
    bridge_col, bridges = column("bridge")
    tunnel_col, tunnels = column("tunnel")
    passed = {t: column(t) for t in PASS_TAGS}
    edge_ids = _edge_list_ids(gdf, cols)

    tags_out: list[dict[str, Any]] = []
    coords_out: list[np.ndarray] = []
    ids_out: list[tuple[int, int]] = []
    dropped = Counter()
    geoms = gdf.geometry.to_numpy()
    for i in range(n):
        cls = hw[i]
        if cls is None:
            dropped["unread_class"] += 1
            continue
        if cls == NOT_ROAD:
            dropped["not_road"] += 1
            continue
        if oneway[i] is None:
            dropped["unread_oneway_two_way"] += 1
        tags: dict[str, Any] = {"highway": cls, "oneway": oneway[i] or "no"}
        nm = names[i]
        if nm is not None and _norm_value(nm) not in ("", "nan", "none", "null"):
            tags["name"] = nm[0] if isinstance(nm, list) and nm else str(nm).strip()
        sp = _norm_value(speeds[i])
        if sp and sp not in ("0", "nan"):
            tags["maxspeed"] = sp
        for t, (col, vals) in passed.items():
            v = _norm_value(vals[i])
            if col is not None and v:
                tags[t] = v
        if _norm_value(tolls[i]) in _TRUE:
            tags["toll"] = "yes"  # closed to motorcycles by the motor profile (closed_when)
        lay = _norm_value(layers[i])
        tags["_level"] = (int(lay) if re.fullmatch(r"-?\d+", lay) else 0,
                          _norm_value(bridges[i]) in _TRUE | {"bridge", "viaduct"},
                          _norm_value(tunnels[i]) in _TRUE | {"culvert"})
        tags_out.append(tags)
        coords_out.append(np.asarray(shapely.get_coordinates(geoms[i]), dtype=np.float64))
        if edge_ids is not None:
            ids_out.append(edge_ids[i])
    source_columns = {"highway": hw_col, "oneway": ow_col, "name": name_col,
                      "maxspeed": speed_col, "toll": toll_col}
    source_columns.update({k: v for k, v in (("layer", layer_col), ("bridge", bridge_col),
                                             ("tunnel", tunnel_col)) if v})
    source_columns.update({t: c for t, (c, _) in passed.items() if c})
    if edge_ids is not None:
        source_columns["direction"] = "u,v (satu baris per arah, ekspor osmnx)"
    return RoadLines(tags=tags_out, coords=coords_out, label=label, source_columns=source_columns,
                     oneway_encoding=encoding if ow_col else None, dropped=dict(dropped),
                     unread_classes=dict(unread),
                     node_ids=ids_out if edge_ids is not None else None, columns_found=cols)


def _read_frame(source: Any):
    """GeoJSON without GDAL (json + shapely: safe beside SpatiaLite); other formats with
    GDAL, taking the first layer of lines."""
    import geopandas as gpd

    name = str(source).lower()
    if name.endswith((".geojson", ".json")):
        with open(source, encoding="utf-8") as fh:
            data = json.load(fh)
        feats = data.get("features", []) if data.get("type") == "FeatureCollection" else [data]
        crs = ((data.get("crs") or {}).get("properties") or {}).get("name") or "EPSG:4326"
        feats = [f for f in feats if f.get("geometry")]
        if not feats:
            return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=crs)
        return gpd.GeoDataFrame.from_features(feats, crs=crs)
    return gpd.read_file(source, layer=_line_layer(source))


def named_lines(source: Any, options: RoadOptions | None = None):
    """Road lines with ``name`` and ``highway`` (GeoDataFrame, EPSG:4326) for the base
    map and street-name geocoding: from a road-line file read as for routing, or from
    an osmnx GraphML (one line per road, reverse twins dropped)."""
    import geopandas as gpd
    import shapely

    if str(source).lower().endswith(".graphml"):
        from geo_sigap.routing.graphml import graphml_lines

        rows = graphml_lines(source)
    else:
        rl = read_lines(source, options)
        seen: set[tuple[int, int]] = set()
        rows = []
        for i, (t, c) in enumerate(zip(rl.tags, rl.coords, strict=True)):
            if rl.node_ids is not None:  # osmnx edge export: one row per direction
                u, v = rl.node_ids[i]
                if (v, u) in seen:
                    continue
                seen.add((u, v))
            rows.append((t.get("name"), t.get("highway"), shapely.LineString(c)))
    return gpd.GeoDataFrame({"name": [r[0] for r in rows], "highway": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs="EPSG:4326")


def _line_layer(source: Any) -> str | None:
    """The first layer with line geometries (GeoPackages often hold several)."""
    try:
        import pyogrio

        layers = pyogrio.list_layers(source)
    except Exception:  # noqa: BLE001 - not a multi-layer source; let read_file decide
        return None
    if len(layers) <= 1:
        return None
    for name, geom in layers:
        if geom and "line" in str(geom).lower():
            return str(name)
    return None


def _pick_class_column(gdf, candidates: list[str], user: Mapping[str, str] | None
                       ) -> tuple[str | None, list[str | None]]:
    best: tuple[str | None, list[str | None], float] = (None, [], -1.0)
    for col in candidates:
        classes = [read_class(v, user) for v in gdf[col].tolist()]
        share = sum(c is not None for c in classes) / max(len(classes), 1)
        if share > best[2] + 1e-12:
            best = (col, classes, share)
        if share >= 1 - MAX_UNREAD_SHARE:
            break
    return best[0], best[1]


def _edge_list_ids(gdf, cols: list[str]) -> list[tuple[int, int]] | None:
    """``(u, v)`` node ids per row when the file is an osmnx edge export."""
    low = {_norm_col(c): c for c in cols}
    if "u" not in low or "v" not in low:
        return None
    try:
        u = [int(x) for x in gdf[low["u"]].tolist()]
        v = [int(x) for x in gdf[low["v"]].tolist()]
    except (TypeError, ValueError):
        return None
    return list(zip(u, v, strict=True))


# ------------------------------------------------------------------ graph
def graph_from_lines(source: Any, config: Any, options: RoadOptions | None = None):
    """A :class:`~geo_sigap.routing.graph.RoadGraph` from road lines.

    Lines need not be split at junctions: any vertex shared by two lines (or used twice
    by one) becomes a junction, after dangling ends are joined (:func:`join_gaps`).
    An osmnx edge export (columns ``u``, ``v``) keeps its nodes and one row per
    direction. ``meta`` records the columns read, the ends joined and the lines dropped.
    """
    from geo_sigap.domain.projection import metric_crs_for_lonlat
    from geo_sigap.routing.gaps import join_gaps
    from geo_sigap.routing.graph import from_edges

    options = options or RoadOptions()
    rl = read_lines(source, options)
    if not rl.coords:
        raise ImportFailed(
            f"Berkas jalan {rl.label} tidak berisi garis jalan yang dapat dibaca",
            f"Road file {rl.label} holds no readable road line",
        )
    allc = np.concatenate(rl.coords)
    crs = metric_crs_for_lonlat(allc[:, 0], allc[:, 1])
    meta: dict[str, Any] = {
        "source": rl.label, "format": "lines", "source_columns": rl.source_columns,
        "oneway_encoding": rl.oneway_encoding, "dropped_lines": rl.dropped,
        "unread_classes": rl.unread_classes, "metric_crs": crs,
        "snap_tolerance_m": options.snap_tolerance_m, "columns_found": rl.columns_found,
    }
    if rl.node_ids is not None:
        lon, lat, edges, ids = _edge_list(rl)
        # the export's nodes are its junctions already: no ends to join
        meta.update(joined_ends=0, joined={"end_to_end": 0, "end_to_line": 0},
                    snap_tolerance_m=None)
        return from_edges(lon, lat, edges, config, node_id=ids, meta=meta)
    stats = join_gaps(rl.tags, rl.coords, options.snap_tolerance_m, crs)
    meta.update(joined_ends=stats.total, dangling_ends=stats.dangling_before - stats.total,
                joined={"end_to_end": stats.end_to_end, "end_to_line": stats.end_to_line})
    lon, lat, edges = _node_lines(rl.tags, rl.coords)
    return from_edges(lon, lat, edges, config, meta=meta)


def _node_lines(tags: Sequence[dict[str, Any]], coords: Sequence[np.ndarray]):
    from geo_sigap.routing.gaps import vertex_keys

    keyed = [vertex_keys(c) for c in coords]
    count: Counter = Counter()
    for keys in keyed:
        for i, k in enumerate(keys):
            count[k] += 2 if i in (0, len(keys) - 1) else 1
    node_of: dict[tuple[int, int], int] = {}
    lon: list[float] = []
    lat: list[float] = []
    edges = []
    for t, c, keys in zip(tags, coords, keyed, strict=True):
        t = {k: v for k, v in t.items() if not k.startswith("_")}
        start = 0
        for i in range(1, len(keys)):
            if count[keys[i]] < 2 and i != len(keys) - 1:
                continue
            ends = []
            for j in (start, i):
                if keys[j] not in node_of:
                    node_of[keys[j]] = len(lon)
                    lon.append(float(c[j, 0]))
                    lat.append(float(c[j, 1]))
                ends.append(node_of[keys[j]])
            if ends[0] != ends[1] or i - start > 1:
                edges.append((ends[0], ends[1], t, c[start:i + 1]))
            start = i
    return lon, lat, edges


def _edge_list(rl: RoadLines):
    """osmnx edge export: each row one directed edge u→v between known node ids."""
    index: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    edges = []
    for t, c, (u, v) in zip(rl.tags, rl.coords, rl.node_ids or (), strict=True):
        for nid, pt in ((u, c[0]), (v, c[-1])):
            if nid not in index:
                index[nid] = len(lon)
                lon.append(float(pt[0]))
                lat.append(float(pt[1]))
        t = {k: val for k, val in t.items() if not k.startswith("_")}
        # osmnx exports one row per direction (a two-way road has its u→v and v→u rows)
        t["oneway"] = "yes"
        edges.append((index[u], index[v], t, c))
    ids = [0] * len(index)
    for nid, i in index.items():
        ids[i] = nid
    return lon, lat, edges, ids


def road_options(settings: Any, items: Sequence[str] | None = None,
                 snap_tolerance_m: float | None = None) -> RoadOptions:
    """Options from the settings (``road_columns``, ``road_snap_tolerance_m``), with
    ``--map`` items and ``--snap-tolerance`` given on the command line taking precedence."""
    base = [p for p in (getattr(settings, "road_columns", None) or "").split(",") if p.strip()]
    tol = (snap_tolerance_m if snap_tolerance_m is not None
           else getattr(settings, "road_snap_tolerance_m", DEFAULT_SNAP_TOLERANCE_M))
    return RoadOptions.parse([*base, *(items or ())], snap_tolerance_m=float(tol))
