"""Response performance (SOP step 8): how long each SOP step took, and who was late.

Durations come from the lifecycle timestamps (minutes). The target is the category's
``target_response_min`` (report → team on scene), made stricter by the priority's
target when that is shorter (:meth:`CategoryTable.target_minutes`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_sigap.domain.categories import Priority

# (key, label, from, to)
SOP_STEPS = (
    ("verifikasi", "Lapor → verifikasi (langkah 1–2)", "reported_at", "verified_at"),
    ("penugasan", "Verifikasi → penugasan (langkah 3)", "verified_at", "dispatched_at"),
    ("berangkat", "Penugasan → berangkat (langkah 4)", "dispatched_at", "en_route_at"),
    ("perjalanan", "Berangkat → tiba di lokasi (langkah 4–5)", "en_route_at", "on_scene_at"),
    ("penanganan", "Tiba → selesai ditangani (langkah 5–6)", "on_scene_at", "handled_at"),
    ("konfirmasi", "Ditangani → konfirmasi selesai (langkah 7)", "handled_at", "resolved_at"),
    ("respons", "Lapor → tiba di lokasi (waktu respons)", "reported_at", "on_scene_at"),
    ("tuntas", "Lapor → selesai", "reported_at", "resolved_at"),
)
STEP_LABELS = {k: label for k, label, _, _ in SOP_STEPS}


def step_durations(incidents: pd.DataFrame) -> pd.DataFrame:
    """Minutes per SOP step per incident (NaN where a timestamp is missing)."""
    out = pd.DataFrame(index=incidents.index)
    for key, _, a, b in SOP_STEPS:
        d = (incidents[b] - incidents[a]).dt.total_seconds() / 60.0
        out[key] = d.where(d >= 0)
    return out


def targets(incidents: pd.DataFrame, categories) -> np.ndarray:
    """Target minutes (report → on scene) per incident."""
    cache: dict = {}
    out = np.empty(len(incidents))
    for i, (cat, prio) in enumerate(zip(incidents["category"], incidents["priority"])):
        key = (cat, prio)
        if key not in cache:
            try:
                p = Priority.parse(prio) if pd.notna(prio) else None
            except Exception:  # noqa: BLE001 - unknown priority: category target only
                p = None
            try:
                cache[key] = categories.target_minutes(cat, p)
            except Exception:  # noqa: BLE001 - unknown category: no target
                cache[key] = np.nan
        out[i] = cache[key]
    return out


def annotate(incidents: pd.DataFrame, categories, as_of: pd.Timestamp | None = None
             ) -> pd.DataFrame:
    """Incidents with step minutes, ``target_min``, ``within_target`` and ``overdue``.

    ``overdue``: arrived later than the target, or (still without a team on scene and
    not rejected/resolved) older than the target at ``as_of`` (default: the latest
    report).
    """
    df = incidents.copy()
    dur = step_durations(df)
    for c in dur.columns:
        df[f"min_{c}"] = dur[c]
    df["target_min"] = targets(df, categories)
    resp = dur["respons"]
    df["within_target"] = (resp <= df["target_min"]).where(resp.notna())
    as_of = as_of if as_of is not None else df["reported_at"].max()
    waiting = (as_of - df["reported_at"]).dt.total_seconds() / 60.0
    status = df["status"].fillna("").astype(str)
    open_ = resp.isna() & ~status.isin(["ditolak", "selesai", "ditangani"])
    df["overdue"] = (resp > df["target_min"]) | (open_ & (waiting > df["target_min"]))
    return df


def summarise(annotated: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Per group: n, median and p90 minutes per SOP step, share within target, overdue.

    Grouped aggregations (one pass per statistic, not a loop over groups: a city has
    thousands of teams); the median and the linear-interpolated p90 of the non-missing
    minutes of each group, NaN where a group has none.
    """
    keys = [by] if isinstance(by, str) else list(by)
    cols = [f"min_{step}" for step, *_ in SOP_STEPS]
    data = annotated[cols].astype(np.float64)
    data["_wt"] = annotated["within_target"].astype(object).map(
        {True: 1.0, False: 0.0}).astype(np.float64)
    data["_late"] = annotated["overdue"].fillna(False).astype(bool).astype(np.int64)
    g = data.groupby([annotated[k] for k in keys], dropna=False, sort=True)
    n = g.size()
    med = g[cols].median()
    p90 = g[cols].quantile(0.9)
    out = pd.DataFrame({"n": n.astype(np.int64)}, index=n.index)
    for step, *_ in SOP_STEPS:
        out[f"{step}_median"] = med[f"min_{step}"].astype(np.float64)
        out[f"{step}_p90"] = p90[f"min_{step}"].astype(np.float64)
    out["share_within_target"] = g["_wt"].mean()
    out["overdue"] = g["_late"].sum().astype(np.int64)
    if len(keys) == 1:
        out.index = pd.Index(out.index, name=keys[0])
    return out


def overdue_cases(annotated: pd.DataFrame) -> pd.DataFrame:
    """The overdue incidents, most late first (no personal data: ticket, place, times)."""
    cols = ["ticket", "category", "kelurahan_code", "lead_team", "reported_at", "on_scene_at",
            "min_respons", "target_min", "status"]
    d = annotated.loc[annotated["overdue"].astype(bool), [c for c in cols if c in annotated]]
    late = (d["min_respons"] - d["target_min"]).fillna(np.inf)
    return d.assign(late_min=late).sort_values("late_min", ascending=False)
