"""Live analytics over a history kept up to date incrementally, quarter by quarter.

The history is partitioned by the WIB quarter of ``reported_at``. Each partition
(:class:`Block`) holds the compact analytics columns of its incidents (about 50 bytes an
incident: category, lon, lat, status, priority, kelurahan/RW/RT code, reported_at,
on_scene_at — the strings as int16 codes into one code table of the store
(:class:`Strings`), int32 once it passes 32,767 values; the frame handed to the
answers is decoded from them, each distinct string one object), indexed by incident
id, and a version number
that changes only when one of its incidents changes. A write (intake, transition,
import) is applied with :meth:`HistoryStore.upsert`: only the partitions the changed
incidents leave or enter are rebuilt; closed quarters nobody touches are never read
again. The filters of the map (category, quarter, WIB hours, kecamatan) and exact
medians, percentiles and Scott's-rule bandwidths need rows rather than pre-added
counts, so a partition keeps its rows; pre-added counts per quarter × category × unit
are :meth:`HistoryStore.summary`, and the answers built from a partition are cached
under the partition's version (:class:`LiveAnalytics`), so an answer about a closed
quarter survives every new report of today.

Nothing here reads the database: :mod:`geo_sigap.analytics.from_storage` feeds the store
from the ``incidents`` table (rows changed since a watermark on ``updated_at``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_sigap.analytics.answers import kpis_answer, parse_hours, periods_answer
from geo_sigap.analytics.frames import WIB, Quarter, filter_incidents

# Columns of a partition (the incident id is the index).
BLOCK_COLUMNS = ("category", "lon", "lat", "status", "priority", "kelurahan_code",
                 "rw_code", "rt_code", "reported_at", "on_scene_at")
_STRINGS = ("category", "status", "kelurahan_code", "rw_code", "rt_code")
_TIMES = ("reported_at", "on_scene_at")


def quarter_key(q: Quarter) -> int:
    return q.year * 4 + q.q - 1


def key_quarter(k: int) -> Quarter:
    return Quarter(int(k) // 4, int(k) % 4 + 1)


def quarter_keys(reported_at: pd.Series) -> np.ndarray:
    """The quarter key (``year·4 + quarter − 1``, WIB) of each timestamp."""
    t = pd.to_datetime(reported_at, utc=True).dt.tz_convert(WIB)
    return (t.dt.year.to_numpy(np.int64) * 4 + (t.dt.month.to_numpy(np.int64) - 1) // 3)


def _shared_strings(col: pd.Series, pool: dict[str, str] | None = None) -> np.ndarray:
    """The column as an object array in which equal strings are one object (8 bytes a
    cell instead of a string each); missing values become ``None``.

    ``pool`` (str → the one object kept for it) makes them one object across calls: a
    store reads each quarter anew from the database, whose driver makes new string
    objects every time, so without it every quarter would keep its own copy of the
    16,666 RT codes of a city (and the scattered small objects would pin the memory of
    the rows read with them)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    vocab = np.empty(len(uniques) + 1, dtype=object)
    if pool is None:
        vocab[:-1] = [str(u) for u in uniques]
    else:
        keep = pool.setdefault
        vocab[:-1] = [keep(u, u) for u in map(str, uniques)]
    vocab[-1] = None
    return vocab[codes]


class Strings:
    """The store's code table: every distinct string of the partitions' string columns
    (categories, statuses, unit codes) once, numbered in order of first sight; code −1 is
    missing. Append-only, so a code never changes meaning and partitions encoded at
    different times concatenate as they are. Appended under the store's writer (one at a
    time); readers decode with :meth:`lookup`."""

    __slots__ = ("values", "_code", "_lookup")

    def __init__(self) -> None:
        self.values: list[str] = []
        self._code: dict[str, int] = {}
        self._lookup = _string_array([])

    def __len__(self) -> int:
        return len(self.values)

    def add(self, value: str) -> int:
        code = self._code.get(value)
        if code is None:
            code = self._code[value] = len(self.values)
            self.values.append(value)
        return code

    def encode(self, col: pd.Series) -> np.ndarray:
        """Codes of a column of strings (missing: −1), int16 while the table is small."""
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        mapped = np.fromiter((self.add(str(u)) for u in uniques), dtype=np.int64,
                             count=len(uniques))
        mapped = np.append(mapped, -1)  # the sentinel −1 picks the last entry
        dtype = np.int16 if len(self.values) < np.iinfo(np.int16).max else np.int32
        return mapped[codes].astype(dtype)

    def lookup(self):
        """Code → string, as the array pandas makes of a column of these strings (its
        ``take`` copies no string and checks none), remade when the table grew."""
        table = self._lookup
        if len(table) != len(self.values):
            table = self._lookup = _string_array(self.values[:len(self.values)])
        return table

    def column(self, codes: np.ndarray):
        """The strings of ``codes`` (−1: missing), each distinct string one object."""
        table = self.lookup()
        idx = np.asarray(codes, dtype=np.intp)
        if isinstance(table, np.ndarray):  # pandas without its string dtype
            return np.append(table, None)[idx]
        return table.take(idx, allow_fill=True)

    def decode(self, data: pd.DataFrame) -> pd.DataFrame:
        """A partition's frame with its string columns as strings again (the frame the
        answers read: the same columns and dtypes as :func:`compact` makes)."""
        # a frame of its own over the same arrays, read without a Series view of each
        # column: under copy-on-write pandas notes every view on the partition's blocks
        # (a reference per column per decode, cleared only now and then)
        cols = {c: self.column(v) if c in _STRINGS else v
                for c, v in zip(data.columns, _column_arrays(data), strict=True)}
        return pd.DataFrame(cols, index=data.index, copy=False)


def _column_arrays(data: pd.DataFrame) -> list:
    """The arrays of a frame's columns (numpy or pandas arrays), no views made."""
    get = getattr(data, "_get_column_array", None)  # pandas' own accessor (2.x, 3.x)
    if get is None:
        return [data[c].array for c in data.columns]
    return [get(i) for i in range(data.shape[1])]


def _string_array(values: list[str]):
    """``values`` as the array a frame column of them holds: pandas' ``str`` dtype (the
    default since pandas 3) or, where pandas infers no such dtype, an object array."""
    obj = np.empty(len(values), dtype=object)
    obj[:] = values
    dtype = pd.Series(np.array(["x"], dtype=object)).dtype
    return obj if dtype == object else pd.array(obj, dtype=dtype)


def _encoded(frame: pd.DataFrame, strings: Strings) -> pd.DataFrame:
    """A partition frame (strings) with its string columns as codes of ``strings``."""
    return frame.assign(**{c: strings.encode(frame[c]) for c in _STRINGS
                           if c in frame.columns})


def compact(rows: pd.DataFrame, pool: dict[str, str] | None = None, *,
            strings: Strings | None = None) -> pd.DataFrame:
    """Analytics rows (``id`` + :data:`BLOCK_COLUMNS`, any extra columns ignored) as a
    partition frame: indexed by id (sorted), timestamps in WIB, strings shared (through
    ``pool`` when given, see :func:`_shared_strings`) or as codes of ``strings`` (what a
    :class:`HistoryStore` keeps), priority as int8."""
    out = pd.DataFrame(index=pd.Index(rows["id"].to_numpy(np.int64), name="id"))
    for c in BLOCK_COLUMNS:
        v = rows[c]
        if c in _STRINGS:
            out[c] = strings.encode(v) if strings is not None else _shared_strings(v, pool)
        elif c in _TIMES:
            t = pd.DatetimeIndex(pd.to_datetime(v, utc=True))
            out[c] = t.tz_convert(WIB).as_unit("ns")
        elif c == "priority":  # 1..5
            out[c] = pd.to_numeric(v, errors="coerce").fillna(3).to_numpy(np.int8)
        else:
            out[c] = pd.to_numeric(v, errors="coerce").to_numpy(np.float64)
    return out.sort_index()


def _empty() -> pd.DataFrame:
    return compact(pd.DataFrame({c: [] for c in ("id", *BLOCK_COLUMNS)}))


@dataclass(frozen=True)
class Block:
    """One quarter's incidents (``data``: indexed by id, sorted, strings as codes of
    ``strings``) and its version; :attr:`frame` is the same decoded."""

    quarter: Quarter
    data: pd.DataFrame
    version: int
    strings: Strings

    @property
    def frame(self) -> pd.DataFrame:
        return self.strings.decode(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def has(self, ids: np.ndarray) -> np.ndarray:
        idx = self.data.index.to_numpy()
        if not len(idx):
            return np.zeros(len(ids), dtype=bool)
        pos = np.searchsorted(idx, ids).clip(0, len(idx) - 1)
        return idx[pos] == ids


class HistoryStore:
    """The incident history as quarter partitions, updated in place by changed rows.

    Readers never wait: every change builds the changed partitions anew and swaps the
    partition map in one assignment, so a reader keeps a consistent snapshot.
    """

    def __init__(self) -> None:
        self._blocks: dict[int, Block] = {}
        self._strings = Strings()  # codes, categories, statuses: one entry each
        self._decoded: dict[tuple[int, int], pd.DataFrame] = {}  # the last two frame(q)
        self._counter = 0
        self._write = threading.Lock()

    # -- changes ---------------------------------------------------------------------------

    def share_strings(self, values: Iterable[str]) -> None:
        """Put ``values`` (unit codes, categories …) in the code table now. Called before
        a large first build, with the values read in one go, they lie together in
        memory; taken one by one from the rows of each quarter instead, each would keep
        a page of freed row objects resident."""
        with self._write:
            for v in values:
                if isinstance(v, str):
                    self._strings.add(v)

    def _block(self, quarter: Quarter, data: pd.DataFrame, version: int) -> Block:
        return Block(quarter, data, version, self._strings)

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def replace_quarter(self, quarter: Quarter, rows: pd.DataFrame) -> None:
        """Set one quarter's partition from all its rows (the first build, a reconcile), or
        from a partition frame (a stored quarter): its strings too become the store's
        one object per distinct value."""
        with self._write:
            frame = compact(rows, strings=self._strings) if "id" in rows.columns \
                else _encoded(rows, self._strings)
            blocks = dict(self._blocks)
            k = quarter_key(quarter)
            if len(frame):
                blocks[k] = self._block(quarter, frame, self._next())
            else:
                blocks.pop(k, None)
            self._blocks = blocks

    def upsert(self, rows: pd.DataFrame) -> set[Quarter]:
        """Apply new or changed incidents (``id`` + :data:`BLOCK_COLUMNS`); an incident whose
        report time moved to another quarter leaves its old partition. Rows equal to what
        the store holds change nothing. Returns the quarters whose partitions changed."""
        if rows is None or not len(rows):
            return set()
        with self._write:
            new = compact(rows.drop_duplicates("id", keep="last"), strings=self._strings)
            keys = quarter_keys(new["reported_at"])
            ids = new.index.to_numpy()
            blocks = dict(self._blocks)
            touched: set[int] = set()
            unchanged: list[np.ndarray] = []
            for k, b in list(blocks.items()):  # the old place of each changed incident
                hit = b.has(ids)
                if not hit.any():
                    continue
                hit_ids = ids[hit]
                same = (keys[hit] == k) & _rows_equal(b.data.loc[hit_ids], new.loc[hit_ids])
                unchanged.append(hit_ids[same])
                drop = hit_ids[~same]
                if len(drop):
                    blocks[k] = self._block(b.quarter, b.data.drop(index=drop), b.version)
                    touched.add(k)
            keep = ~np.isin(ids, np.concatenate(unchanged)) if unchanged else \
                np.ones(len(ids), dtype=bool)
            add, add_keys = new.loc[keep], keys[keep]
            for k in np.unique(add_keys):
                k = int(k)
                part = add.loc[add_keys == k]
                b = blocks.get(k)
                frame = part if b is None else pd.concat([b.data, part]).sort_index()
                blocks[k] = self._block(key_quarter(k), frame, 0)
                touched.add(k)
            for k in touched:
                b = blocks[k]
                if len(b):
                    blocks[k] = self._block(b.quarter, b.data, self._next())
                else:
                    del blocks[k]
            self._blocks = blocks
        return {key_quarter(k) for k in touched}

    def delete(self, ids: Iterable[int]) -> set[Quarter]:
        """Forget incidents (deleted rows)."""
        ids = np.unique(np.asarray(list(ids), dtype=np.int64))
        touched = set()
        with self._write:
            blocks = dict(self._blocks)
            for k, b in list(blocks.items()):
                if b.has(ids).any():
                    kept = b.data.loc[~b.data.index.isin(ids)]
                    if len(kept):
                        blocks[k] = self._block(b.quarter, kept, self._next())
                    else:
                        del blocks[k]
                    touched.add(b.quarter)
            self._blocks = blocks
        return touched

    # -- reading ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Changes with every change of any partition."""
        return self._counter

    def block(self, quarter: Quarter | str) -> Block | None:
        return self._blocks.get(quarter_key(Quarter.parse(quarter)))

    def blocks(self) -> list[Block]:
        return [b for _, b in sorted(self._blocks.items())]

    def token(self, quarter: Quarter | str | None = None) -> int:
        """A number that changes when the answer about ``quarter`` (None: all) may change."""
        if quarter is None:
            return self._counter
        b = self.block(quarter)
        return 0 if b is None else b.version

    def frame(self, quarter: Quarter | str | None = None) -> pd.DataFrame:
        """The incidents of one quarter (None: all), indexed by id."""
        if quarter is not None:
            b = self.block(quarter)
            if b is None:
                return _empty()
            key = (quarter_key(b.quarter), b.version)
            hit = self._decoded.get(key)
            if hit is None:  # the answers of one write (KPIs, heat, hotspots) decode once
                hit = b.frame
                self._decoded = {**dict(list(self._decoded.items())[-1:]), key: hit}
            return hit
        parts = [b.data for b in self.blocks()]
        if not parts:
            return _empty()
        return self._strings.decode(pd.concat(parts) if len(parts) > 1 else parts[0])

    def quarters(self) -> list[Quarter]:
        """Quarters holding incidents, newest first."""
        return [key_quarter(k) for k in sorted(self._blocks, reverse=True)]

    def __len__(self) -> int:
        return sum(len(b) for b in self._blocks.values())

    def summary(self) -> pd.DataFrame:
        """Counts per quarter × category × kelurahan × status (the pre-added view)."""
        parts = []
        for b in self.blocks():
            f = b.frame
            g = f.groupby([f["category"], f["kelurahan_code"].fillna(""),
                           f["status"]], sort=True).size()
            parts.append(pd.concat({str(b.quarter): g}, names=["quarter"]))
        if not parts:
            return pd.Series(dtype=np.int64)
        return pd.concat(parts).rename("n")


def _rows_equal(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Row by row: are two partition frames (same ids, same order) equal? (NaN == NaN)"""
    eq = np.ones(len(a), dtype=bool)
    for c in BLOCK_COLUMNS:
        x, y = a[c], b[c]
        eq &= ((x == y) | (x.isna() & y.isna())).to_numpy()
    return eq


class LiveAnalytics:
    """KPIs, heat grid, hotspots and periods for the web map, from a :class:`HistoryStore`.

    Parameters
    ----------
    store : callable returning the current :class:`HistoryStore` (brought up to date)
    units : callable returning ``(units GeoDataFrame, units_token)``
    categories : the category table

    Answers are cached under (parameters, version of the partitions they read, units
    token): an answer about a quarter nobody changed stays cached across writes. With
    ``encoded=True`` a method returns the answer as JSON bytes, encoded once per version
    (a heat grid of a city is megabytes of JSON: encoding it per request would cost more
    than computing it).
    """

    def __init__(self, store: Callable[[], HistoryStore], units: Callable[[], tuple],
                 categories, *, keep: int = 256):
        self._store = store
        self._units = units
        self.categories = categories
        self._cache: OrderedDict = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()  # guards the cache dict only, never a computation
        self._weights: dict = {}
        self.hits = self.misses = 0

    def _cached(self, key, token, build, encoded=False):
        if encoded == "gzip":  # the JSON bytes gzip-compressed, once per version
            plain_json = self._cached(key, token, build, True)
            return self._cached((*key, "gz"), token, lambda: _gzip(plain_json))
        if encoded:  # the answer as sent (JSON bytes), encoded once per version
            key = (*key, "json")
            plain = build

            def build():
                import json

                return json.dumps(plain(), ensure_ascii=False, allow_nan=False,
                                  separators=(",", ":")).encode()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == token:
                self._cache.move_to_end(key)
                self.hits += 1
                return hit[1]
        value = build()
        from geo_sigap._malloc import release_free_memory_soon

        release_free_memory_soon()  # the build's temporary tables, freed but resident
        with self._lock:
            self.misses += 1
            self._cache[key] = (token, value)
            self._cache.move_to_end(key)
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return value

    def _select(self, store: HistoryStore, category, quarter, hours, kecamatan):
        q = Quarter.parse(quarter) if quarter else None
        h = parse_hours(hours)
        cats = category.split(",") if category else None
        frame = store.frame(q)
        return filter_incidents(frame, categories=cats, hours=h, kecamatan=kecamatan)

    def _token(self, store: HistoryStore, quarter, units_token):
        q = Quarter.parse(quarter) if quarter else None
        return (store.token(q), units_token)

    def kpis(self, category=None, quarter=None, hours=None, kecamatan=None, *,
             encoded: bool | str = False) -> dict:
        store = self._store()
        parse_hours(hours)
        token = self._token(store, quarter, None)
        key = ("kpis", category, quarter, hours, kecamatan)
        return self._cached(key, token, lambda: kpis_answer(
            self._select(store, category, quarter, hours, kecamatan), self.categories),
            encoded)

    def heat(self, category=None, quarter=None, hours=None, kecamatan=None,
             bandwidth_m=None, kernel="quartic", *, encoded: bool | str = False,
             compact: bool = False) -> dict:
        """The KDE surface: bounds, shape, meta, the PNG ``image`` and the grid ``values``
        (``compact``: without the values, which the map does not draw).
        ``encoded``: JSON bytes (``True``) or those gzip-compressed (``"gzip"``), made
        once per version."""
        from geo_sigap.analytics.heatmap import kde_grid

        store = self._store()
        units, utoken = self._units()
        parse_hours(hours)
        key = ("heat", category, quarter, hours, kecamatan, bandwidth_m, kernel, compact)

        def build():
            inc = self._select(store, category, quarter, hours, kecamatan)
            kel = units.loc[units["level"] == "kelurahan"]
            if kecamatan:
                kel = kel.loc[kel["code"].astype(str).str.startswith(kecamatan)]
            bounds = tuple(float(v) for v in kel.total_bounds) if len(kel) else None
            g = kde_grid(inc["lon"], inc["lat"], bandwidth_m=bandwidth_m, kernel=kernel,
                         bounds=bounds)
            out = g.to_json()
            if compact:
                del out["values"]
            out["image"] = g.to_data_url()
            return out

        return self._cached(key, self._token(store, quarter, utoken), build, encoded)

    def _unit_weights(self, units, level, kecamatan, utoken):
        from geo_sigap.analytics.hotspots import units_of_level
        from geo_sigap.analytics.weights import queen_weights

        key = (level, kecamatan, utoken)
        w = self._weights.get(key)
        if w is None:
            sel = units_of_level(units, level, kecamatan)
            w = queen_weights(sel)
            if len(self._weights) > 16:
                self._weights.clear()
            self._weights[key] = w
        return w

    def _geometries(self, key, gdf, decimals: int | None = None) -> list[str]:
        """GeoJSON text of each geometry of a unit level or hex grid, made once;
        ``decimals``: coordinates rounded (5 ≈ 1 m)."""
        import json

        import shapely
        from shapely.geometry import mapping

        hit = self._weights.get(("geojson", key, decimals))
        if hit is None:
            geoms = gdf.to_crs("EPSG:4326").geometry
            if decimals is None:
                hit = [json.dumps(mapping(g)) for g in geoms]
            else:
                rounded = shapely.transform(geoms.to_numpy(),
                                            lambda c: np.round(c, decimals))
                hit = list(shapely.to_geojson(rounded))
            self._weights[("geojson", key, decimals)] = hit
        return hit

    def _hex(self, units, kecamatan, hex_m, utoken):
        """The hex grid over the kelurahan (of a kecamatan), its cells and adjacency."""
        from geo_sigap.analytics.weights import hex_grid

        key = ("hex", kecamatan, hex_m, utoken)
        hit = self._weights.get(key)
        if hit is None:
            from geo_sigap.analytics.hotspots import units_of_level

            kel = units_of_level(units, "kelurahan", kecamatan)  # none: 422, not a 500
            from geo_sigap.analytics.gistar import star_weights

            grid = hex_grid(kel, hex_m)
            gdf = grid.to_geodataframe()
            hit = (grid, gdf, star_weights(grid.adjacency()), self._geometries(key, gdf))
            self._weights[key] = hit
        return hit

    def hex_hotspots(self, quarter=None, kecamatan=None, *, category=None, hours=None,
                     hex_m=None, permutations=None, seed=None):
        """The hotspot test (:func:`geo_sigap.analytics.hotspots.hex_gi`) of a quarter's
        incidents on the hex grid of the area, computed once per version of the quarter's
        partition and shared: the live map's hotspot layer and the rakor pack built by the
        service (:func:`geo_sigap.analytics.report.cache.cached_pack`) read this one
        result, so a cell never has one class on the map and another in print."""
        from geo_sigap.analytics import hotspots as H

        hex_m = H.HEX_M if hex_m is None else float(hex_m)
        permutations = H.PERMUTATIONS if permutations is None else int(permutations)
        seed = H.SEED if seed is None else int(seed)
        quarter = str(Quarter.parse(quarter)) if quarter else None
        store = self._store()
        units, utoken = self._units()
        parse_hours(hours)
        key = ("hexgi", category, quarter, hours, kecamatan, hex_m, permutations, seed)

        def build():
            inc = self._select(store, category, quarter, hours, kecamatan)
            grid, _cells, w, _geoms = self._hex(units, kecamatan, hex_m, utoken)
            return H.hex_gi(grid, w, inc["lon"].to_numpy(), inc["lat"].to_numpy(),
                            permutations=permutations, seed=seed)

        return self._cached(key, self._token(store, quarter, utoken), build)

    def hotspots(self, category=None, quarter=None, hours=None, kecamatan=None,
                 level="hex", hex_m=250.0, permutations=999, *,
                 encoded: bool | str = False, compact: bool = False) -> dict:
        """Gi* hot spots as GeoJSON: the same answer as
        :func:`geo_sigap.analytics.hotspots.hex_hotspots` / :func:`unit_hotspots` +
        :func:`to_geojson`, with the grid, the weights and the geometries' GeoJSON made
        once per units version (only the counts and the test run per call). The hex
        level reads :meth:`hex_hotspots` (the result the rakor pack prints).

        ``compact``: what the map draws only — properties ``code`` (``name`` of units),
        ``count``, ``gi_z`` (2 decimals), ``gi_p`` (3), ``gi_class``; coordinates to 5
        decimals (≈ 1 m). ``encoded``: JSON bytes (``True``) or gzip (``"gzip"``)."""
        import json

        from geo_sigap.analytics import gistar as _gi
        from geo_sigap.analytics.hotspots import _attach, count_by_unit, units_of_level

        store = self._store()
        units, utoken = self._units()
        parse_hours(hours)
        quarter = str(Quarter.parse(quarter)) if quarter else None
        key = ("hotspots", category, quarter, hours, kecamatan, level, hex_m, permutations,
               compact)
        if encoded == "gzip":
            token = self._token(store, quarter, utoken)
            return self._cached((*key, "gz"), token, lambda: _gzip(self.hotspots(
                category, quarter, hours, kecamatan, level, hex_m, permutations,
                encoded=True, compact=compact)))
        decimals = 5 if compact else None

        def build():
            if level == "hex":
                res = self.hex_hotspots(quarter, kecamatan, category=category, hours=hours,
                                        hex_m=hex_m, permutations=permutations)
                _grid, cells, _w, geoms = self._hex(units, kecamatan, float(hex_m), utoken)
                if compact:
                    geoms = self._geometries(("hex", kecamatan, float(hex_m), utoken), cells,
                                             decimals)
                cls = res.classes
                props = pd.DataFrame({
                    "code": res.codes, "count": res.counts.astype(np.int64), "gi_z": res.gi.z,
                    "gi_p": res.gi.p_two, "gi_class": cls,
                    "gi_label": [_gi.GI_CLASS_LABELS[int(c)] for c in cls]})
                islands, n_inc = int(res.gi.island.sum()), res.n_incidents
            else:
                inc = self._select(store, category, quarter, hours, kecamatan)
                sel = units_of_level(units, level, kecamatan)
                w = self._unit_weights(units, level, kecamatan, utoken)
                geoms = self._geometries(("unit", level, kecamatan, utoken), sel, decimals)
                counts = count_by_unit(inc, sel["code"], level)
                gdf = _attach(sel, counts, w, permutations=permutations, seed=12345,
                              fdr=True, moran=True)
                cols = ["code", "name", "count", "gi_z", "gi_p", "gi_class", "gi_label",
                        "moran_q", "moran_label"]
                props = pd.DataFrame({c: gdf[c] for c in cols})
                islands, n_inc = gdf.attrs["islands"], int(len(inc))
            if compact:
                props = props[[c for c in ("code", "name", "count", "gi_z", "gi_p",
                                           "gi_class") if c in props.columns]].copy()
                props["gi_z"] = props["gi_z"].round(2)
                props["gi_p"] = props["gi_p"].round(3)
            for c in props.columns:
                if props[c].dtype.kind == "f":
                    props[c] = props[c].round(4).astype(object).where(props[c].notna(), None)
                elif props[c].dtype.kind in "iu":
                    props[c] = props[c].astype(object)
            records = props.to_dict("records")
            feats = ",".join(
                '{"type":"Feature","properties":' + json.dumps(r, ensure_ascii=False)
                + ',"geometry":' + g + "}" for r, g in zip(records, geoms, strict=True))
            meta = {"permutations": permutations, "fdr": True,
                    "islands": islands, "n_incidents": n_inc}
            return ('{"type":"FeatureCollection","features":[' + feats + '],"meta":'
                    + json.dumps(meta) + "}").encode()

        body = self._cached(key, self._token(store, quarter, utoken), build)
        return body if encoded else json.loads(body)

    def periods(self) -> dict:
        store = self._store()
        now = pd.Timestamp.now(tz="UTC")
        return self._cached(("periods", str(Quarter.of(now))), store.version,
                            lambda: periods_answer(store.quarters(), now))


def store_from_frame(incidents: pd.DataFrame) -> HistoryStore:
    """A store holding an analytics incidents frame (files, tests, notebooks)."""
    df = incidents.reset_index(drop=True)
    if "id" not in df.columns:
        df = df.assign(id=np.arange(1, len(df) + 1))
    for c in BLOCK_COLUMNS:
        if c not in df.columns:
            df[c] = pd.NaT if c in _TIMES else None
    store = HistoryStore()
    store.upsert(df)
    return store


def _gzip(body: bytes) -> bytes:
    import gzip

    return gzip.compress(body, compresslevel=6)
