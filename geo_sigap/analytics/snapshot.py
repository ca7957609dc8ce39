"""Closed quarters of the analytics history kept on disk, so that a restart is fast.

Building the history (:class:`geo_sigap.analytics.from_storage.StorageHistory`) reads
every incident (11–27 s for a million). A quarter that is over rarely changes, so each
closed quarter's partition frame is written once, when it is read, with the *check* of
the rows it was built from: ``(rows, sum of ids, newest updated_at)`` of the incidents
reported in that quarter. At the next start a stored quarter is used only when the same
check over the table gives the same three numbers — an edit (it moves ``updated_at``
forward), an import or a deletion in that quarter (the count or the ids change) make it
read again from the table and stored anew. The open quarter is always read from its own
rows. One file per quarter (numpy ``.npz``, no pickle): strings as a vocabulary and codes,
times as int64 nanoseconds, numbers as they are; a folder per database (its URL's hash)
and a format stamp (the partition's columns: another layout is read again; each file
keeps its columns' dtypes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FORMAT = 1

Check = tuple[int, int, int]  # rows, sum of ids, newest updated_at (µs since the epoch)


def layout(frame: pd.DataFrame) -> list[list[str]]:
    """The columns and dtypes of a partition frame (the format stamp)."""
    return [[str(c), str(frame[c].dtype)] for c in frame.columns]


def _encode(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"__id__": frame.index.to_numpy(np.int64)}
    for c in frame.columns:
        v = frame[c]
        if isinstance(v.dtype, pd.CategoricalDtype):
            out[f"c:{c}"] = v.cat.codes.to_numpy(np.int32)
            out[f"v:{c}"] = np.asarray(v.cat.categories.astype(str), dtype=str)
        elif isinstance(v.dtype, pd.DatetimeTZDtype):
            t = v.dt.tz_convert("UTC").dt.tz_localize(None)
            out[f"t:{c}"] = t.to_numpy("datetime64[ns]").view(np.int64)
        elif str(v.dtype).startswith("datetime"):
            out[f"t:{c}"] = v.to_numpy("datetime64[ns]").view(np.int64)
        elif pd.api.types.is_numeric_dtype(v.dtype) or pd.api.types.is_bool_dtype(v.dtype):
            out[f"n:{c}"] = v.to_numpy()
        else:  # strings (object or pandas' string dtype), None/NaN for missing
            codes, uniq = pd.factorize(v, use_na_sentinel=True)
            out[f"s:{c}"] = codes.astype(np.int32)
            out[f"v:{c}"] = np.asarray([str(u) for u in uniq], dtype=str)
    return out


def _decode(data, shape: list[list[str]]) -> pd.DataFrame:
    index = pd.Index(data["__id__"], name="id")
    cols = {}
    for c, dtype in shape:
        if f"c:{c}" in data:
            cols[c] = pd.Categorical.from_codes(data[f"c:{c}"], categories=list(data[f"v:{c}"]))
        elif f"t:{c}" in data:
            t = pd.DatetimeIndex(data[f"t:{c}"].view("datetime64[ns]"))
            want = pd.api.types.pandas_dtype(dtype)
            cols[c] = t.tz_localize("UTC").tz_convert(want.tz) \
                if isinstance(want, pd.DatetimeTZDtype) else t
        elif f"s:{c}" in data:
            vocab = np.empty(len(data[f"v:{c}"]) + 1, dtype=object)
            vocab[:-1] = [str(u) for u in data[f"v:{c}"]]  # one object per distinct string
            vocab[-1] = None
            cols[c] = vocab[data[f"s:{c}"]]
        else:
            cols[c] = data[f"n:{c}"]
    frame = pd.DataFrame(cols, index=index)
    return frame.astype({c: d for c, d in shape if str(frame[c].dtype) != d and d != "object"})


class Snapshot:
    """The stored closed quarters of one database, under ``folder``."""

    def __init__(self, folder: Path, db_key: str, empty: pd.DataFrame):
        self.folder = Path(folder) / hashlib.sha256(db_key.encode()).hexdigest()[:16]
        self.columns = [str(c) for c in empty.columns]
        self._lock = threading.Lock()
        self._meta = self._read_meta()

    def _meta_path(self) -> Path:
        return self.folder / "quarters.json"

    def _read_meta(self) -> dict:
        try:
            meta = json.loads(self._meta_path().read_text())
        except (OSError, ValueError):
            return {}
        if meta.get("format") != FORMAT or meta.get("columns") != self.columns:
            return {}  # another layout of the partitions: everything is read again
        return meta.get("quarters", {})

    def check(self, key: int) -> Check | None:
        got = self._meta.get(str(key))
        return tuple(got["check"]) if got else None

    def keys(self) -> list[int]:
        return sorted(int(k) for k in self._meta)

    def load(self, key: int) -> pd.DataFrame | None:
        try:
            shape = self._meta[str(key)]["layout"]
            with np.load(self.folder / f"q{key}.npz", allow_pickle=False) as data:
                return _decode(data, shape)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("stored analytics quarter %s not read (%s)", key, exc)
            return None

    def save(self, key: int, frame: pd.DataFrame, check: Check) -> None:
        """Store one closed quarter (atomically: temporary files, then rename)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".q{key}.{os.getpid()}.{threading.get_ident()}.npz"
            np.savez(tmp, **_encode(frame))
            os.replace(tmp, self.folder / f"q{key}.npz")
            with self._lock:
                self._meta[str(key)] = {"check": [int(x) for x in check],
                                        "layout": layout(frame)}
                self._write_meta()
        except OSError as exc:  # a read-only cache: the next start reads the table
            log.warning("analytics quarter %s not stored (%s)", key, exc)

    def forget(self, key: int) -> None:
        with self._lock:
            if self._meta.pop(str(key), None) is not None:
                self._write_meta()
        (self.folder / f"q{key}.npz").unlink(missing_ok=True)

    def _write_meta(self) -> None:
        tmp = self.folder / f".quarters.{os.getpid()}.{threading.get_ident()}.json"
        tmp.write_text(json.dumps({"format": FORMAT, "columns": self.columns,
                                   "quarters": self._meta}))
        os.replace(tmp, self._meta_path())


def rows_check(rows: pd.DataFrame) -> Check:
    """The check of the analytics rows a partition is built from (``id``, ``updated_at``)."""
    if not len(rows):
        return (0, 0, 0)
    newest = pd.Timestamp(rows["updated_at"].max())
    return (len(rows), int(rows["id"].astype("int64").sum()), _us(newest))


def _us(ts) -> int:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.tz_convert("UTC").value // 1000)
