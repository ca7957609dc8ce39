"""The answers the live analytics serve, computed from a filtered incident frame: the
quarters on offer (``/api/map/periods``), the KPIs, target minutes per incident, and the
``hours`` filter. Pure functions of their inputs; :class:`~geo_sigap.analytics.incremental.
LiveAnalytics` caches them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_sigap.analytics.frames import Quarter


def periods_answer(quarters: list[Quarter], now: pd.Timestamp | None = None) -> dict:
    """``{quarters: [{code, label}], default}`` newest first; default: the last complete
    quarter (the one before the current, WIB) or the data's newest earlier one."""
    found = sorted(quarters, reverse=True)
    default = None
    if found:
        now = now if now is not None else pd.Timestamp.now(tz="UTC")
        default = min(found[0], Quarter.of(now).previous())
        if default not in found:
            earlier = [q for q in found if q <= default]
            default = earlier[0] if earlier else found[0]
    return {"quarters": [{"code": str(q), "label": q.label} for q in found],
            "default": str(default) if default else None}


def target_minutes(inc: pd.DataFrame, categories) -> np.ndarray:
    """Target minutes (report → on scene) per incident, one lookup per (category, priority)
    pair (same values as :func:`geo_sigap.analytics.performance.targets`)."""
    from geo_sigap.domain.categories import Priority

    if not len(inc):
        return np.empty(0)
    pairs = pd.MultiIndex.from_arrays([inc["category"].astype(object),
                                       inc["priority"].astype(object)])
    codes, uniq = pd.factorize(pairs)
    values = np.empty(len(uniq))
    for i, (cat, prio) in enumerate(uniq):
        try:
            p = Priority.parse(prio) if pd.notna(prio) else None
        except Exception:  # noqa: BLE001 - unknown priority: category target only
            p = None
        try:
            values[i] = categories.target_minutes(cat, p)
        except Exception:  # noqa: BLE001 - unknown category: no target
            values[i] = np.nan
    return values[codes]


def kpis_answer(inc: pd.DataFrame, categories) -> dict:
    """Counts, response median/p90, share within target and overdue of filtered incidents
    (the numbers of :func:`geo_sigap.analytics.performance.annotate`, computed from the
    two timestamps they need)."""
    d = (inc["on_scene_at"] - inc["reported_at"]).dt.total_seconds() / 60.0
    resp = d.where(d >= 0)
    target = pd.Series(target_minutes(inc, categories), index=inc.index)
    within = (resp <= target).where(resp.notna())
    as_of = inc["reported_at"].max()
    waiting = (as_of - inc["reported_at"]).dt.total_seconds() / 60.0
    status = inc["status"].fillna("").astype(str)
    open_ = resp.isna() & ~status.isin(["ditolak", "selesai", "ditangani"])
    overdue = (resp > target) | (open_ & (waiting > target))
    r = resp.dropna()
    wt = within.dropna().astype(bool)

    def num(v):
        return None if v is None or not np.isfinite(v) else round(float(v), 1)

    return {
        "incidents": int(len(inc)),
        "by_category": {str(k): int(v) for k, v in inc["category"].value_counts().items()},
        "response_median_min": num(r.median()) if len(r) else None,
        "response_p90_min": num(r.quantile(0.9)) if len(r) else None,
        "share_within_target": num(wt.mean()) if len(wt) else None,
        "overdue": int(overdue.sum()),
    }


def parse_hours(hours: str | None) -> tuple[int, int] | None:
    from geo_sigap.errors import InvalidInput

    if not hours:
        return None
    try:
        a, b = (int(v) for v in hours.split("-"))
    except ValueError:
        raise InvalidInput("Jam harus berbentuk 'dari-sampai', mis. 20-3",
                           "Hours must look like 'from-to', e.g. 20-3") from None
    return a, b
