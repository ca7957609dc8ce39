"""Counts and rates per kelurahan / RW / RT, with empirical-Bayes smoothing and classes.

Rates are per 1,000 residents where the population is known. Small units make raw
rates jumpy (2 incidents among 80 people is "25 per 1,000"); the global empirical-Bayes
estimate (Marshall 1991, as esda's ``Empirical_Bayes``) pulls each rate towards the
overall rate in proportion to how little population backs it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_sigap.analytics.hotspots import count_by_unit, units_of_level


def empirical_bayes(events, population) -> np.ndarray:
    """Global EB-smoothed rates (events per person); NaN where population is unknown."""
    e = np.asarray(events, dtype=np.float64)
    p = np.asarray(population, dtype=np.float64)
    ok = np.isfinite(p) & (p > 0)
    out = np.full(len(e), np.nan)
    if not ok.any():
        return out
    e_, p_ = e[ok], p[ok]
    b = e_.sum() / p_.sum()
    r = e_ / p_
    s2 = (p_ * (r - b) ** 2).sum() / p_.sum()
    a = max(s2 - b / p_.mean(), 0.0)
    w = a / (a + b / p_) if (a > 0) else np.zeros_like(p_)
    out[ok] = w * r + (1 - w) * b
    return out


def classify_values(values, k: int = 5, scheme: str = "FisherJenks"):
    """mapclassify classes: returns (bins, class index per value); NaN → -1."""
    import mapclassify

    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    idx = np.full(len(v), -1)
    if ok.sum() == 0:
        return np.array([]), idx
    k = int(min(k, max(1, len(np.unique(v[ok])))))
    if k < 2:
        idx[ok] = 0
        return np.array([v[ok].max()]), idx
    cls = getattr(mapclassify, scheme)(v[ok], k=k)
    idx[ok] = cls.yb
    return np.asarray(cls.bins), idx


def choropleth(incidents: pd.DataFrame, units: gpd.GeoDataFrame, level: str = "kelurahan", *,
               kecamatan: str | None = None, k: int = 5,
               scheme: str = "FisherJenks") -> gpd.GeoDataFrame:
    """Units of ``level`` with ``count, rate_1000, rate_eb_1000`` and classes.

    ``count_class`` classes the counts; ``rate_class`` the EB-smoothed rates (-1 where
    the population is unknown). ``attrs['bins_count']``, ``attrs['bins_rate']`` hold
    the class upper bounds.
    """
    sel = units_of_level(units, level, kecamatan).copy()
    counts = count_by_unit(incidents, sel["code"], level)
    pop = pd.to_numeric(sel["population"], errors="coerce").to_numpy(dtype=np.float64)
    sel["count"] = counts.astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        sel["rate_1000"] = np.where(pop > 0, 1000 * counts / pop, np.nan)
    sel["rate_eb_1000"] = 1000 * empirical_bayes(counts, pop)
    bins_c, cls_c = classify_values(counts, k, scheme)
    bins_r, cls_r = classify_values(sel["rate_eb_1000"].to_numpy(), k, scheme)
    sel["count_class"] = cls_c
    sel["rate_class"] = cls_r
    sel.attrs["bins_count"] = bins_c.tolist()
    sel.attrs["bins_rate"] = bins_r.tolist()
    return sel
