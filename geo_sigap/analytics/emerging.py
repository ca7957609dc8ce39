"""Emerging hot spot analysis: Gi* per time slice + Mann-Kendall trend per unit.

Classification follows Esri's Emerging Hot Spot Analysis rules as coded in R's sfdep
(``classify_hotspot``): the first matching category in the order new, consecutive,
intensifying, persistent, diminishing, oscillating, historical, sporadic (hot before
cold for each), else "no pattern". ``sig`` means the slice's pseudo p-value
(one tail, the tail of the observed value, as sfdep's ``p_sim = pmin(l, g)``; ties
counted on both sides — :attr:`GiStar.p_folded`) is ≤ ``threshold``; the trend is the Mann-Kendall
test of the unit's Gi* z-scores over the slices at the same ``threshold``.

Differences from sfdep, stated: sfdep's "intensifying hotspot" counts significant
slices of either sign (``sum(sigs)``), so a diminishing cold spot (cold throughout,
warming) is called an intensifying hot spot; here, as in Esri's definition, it counts
significant *hot* slices; Gi* per slice uses spatial neighbours of the same
slice only (sfdep's default also adds the neighbours' values of the previous slice,
``k = 1``); a slice without incidents has z = 0 and p = 1 (sfdep would fail); the
Mann-Kendall p-value is the normal approximation with tie-corrected variance and
continuity correction (``Kendall::MannKendall`` gives the same for n ≥ 10 and is
close below). With few slices a trend cannot reach significance at all — see
:func:`mann_kendall_min_p`; the result says so in ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr  # the normal tail (scipy.stats: half a second to import)

from geo_sigap.analytics import gistar as _gi

CLASS_ORDER = (
    "new hotspot", "new coldspot", "consecutive hotspot", "consecutive coldspot",
    "intensifying hotspot", "intensifying coldspot", "persistent hotspot",
    "persistent coldspot", "diminishing hotspot", "diminishing coldspot",
    "oscillating hotspot", "oscillating coldspot", "historical hotspot",
    "historical coldspot", "sporadic hotspot", "sporadic coldspot", "no pattern detected",
)
LABELS_ID = {
    "new hotspot": "Titik panas baru", "new coldspot": "Titik dingin baru",
    "consecutive hotspot": "Titik panas beruntun", "consecutive coldspot": "Titik dingin beruntun",
    "intensifying hotspot": "Titik panas menguat", "intensifying coldspot": "Titik dingin menguat",
    "persistent hotspot": "Titik panas menetap", "persistent coldspot": "Titik dingin menetap",
    "diminishing hotspot": "Titik panas melemah", "diminishing coldspot": "Titik dingin melemah",
    "oscillating hotspot": "Titik panas naik-turun",
    "oscillating coldspot": "Titik dingin naik-turun",
    "historical hotspot": "Titik panas lama", "historical coldspot": "Titik dingin lama",
    "sporadic hotspot": "Titik panas sporadis", "sporadic coldspot": "Titik dingin sporadis",
    "no pattern detected": "Tidak ada pola",
}


def mann_kendall(x) -> tuple[float, float, float]:
    """Mann-Kendall trend test: (S, tau, two-sided p).

    ``tau`` is Kendall's tau-b of x against time; p from the normal approximation
    with tie-corrected variance and continuity correction.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < 3:
        return 0.0, 0.0, 1.0
    diff = np.sign(x[None, :] - x[:, None])
    S = float(np.triu(diff, 1).sum())
    _, t = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(t * (t - 1) * (2 * t + 5))) / 18.0
    n0 = n * (n - 1) / 2
    n1 = float(np.sum(t * (t - 1) / 2))
    denom = np.sqrt(n0 * (n0 - n1))
    tau = S / denom if denom > 0 else 0.0
    if S == 0 or var <= 0:
        return S, tau, 1.0
    z = (S - np.sign(S)) / np.sqrt(var)
    return S, float(tau), float(2 * ndtr(-abs(z)))


def mann_kendall_rows(X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`mann_kendall` of every row of ``X`` (units × slices) at once: (S, tau, p)."""
    X = np.asarray(X, dtype=np.float64)
    m, n = X.shape
    if n < 3:
        return np.zeros(m), np.zeros(m), np.ones(m)
    diff = np.sign(X[:, None, :] - X[:, :, None])  # [u, i, j] = sign(x_j - x_i)
    S = np.triu(diff, 1).sum(axis=(1, 2))
    c = (X[:, :, None] == X[:, None, :]).sum(axis=2).astype(np.float64)  # tie group sizes
    # a tie group of t values adds t(t-1)(2t+5) and t(t-1)/2: (c-1)(2c+5) and (c-1)/2 a value
    var = (n * (n - 1) * (2 * n + 5) - ((c - 1) * (2 * c + 5)).sum(axis=1)) / 18.0
    n0 = n * (n - 1) / 2
    n1 = ((c - 1) / 2).sum(axis=1)
    denom = np.sqrt(n0 * (n0 - n1))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(denom > 0, S / denom, 0.0)
        z = (S - np.sign(S)) / np.sqrt(var)
    p = np.where((S == 0) | (var <= 0), 1.0, 2 * ndtr(-np.abs(np.nan_to_num(z))))
    return S, tau, p


def mann_kendall_min_p(n: int) -> float:
    """The smallest two-sided p a Mann-Kendall test on ``n`` untied values can give."""
    if n < 3:
        return 1.0
    return mann_kendall(np.arange(n, dtype=float))[2]


def classify(gs, sigs, tau: float, tau_p: float, threshold: float) -> str:
    """The sfdep/Esri class of one unit's Gi* z series ``gs`` and significance ``sigs``."""
    gs = np.asarray(gs, dtype=np.float64)
    sigs = np.asarray(sigs, dtype=bool)
    n = len(gs)
    hot = sigs & (gs > 0)
    cold = sigs & (gs < 0)
    last_sig = bool(sigs[-1])

    def final_run() -> int:
        # length of the final uninterrupted run of significant slices
        k = 0
        for s in sigs[::-1]:
            if not s:
                break
            k += 1
        return k

    def consecutive(sign: int) -> bool:
        if not (last_sig and np.sign(gs[-1]) == sign):
            return False
        k = final_run()
        before = sigs[: n - k]
        share = (hot if sign > 0 else cold).sum() / n
        return (not before.any()) and share < 0.9

    rules = {
        "new hotspot": sigs.sum() == 1 and last_sig and gs[-1] > 0,
        "new coldspot": sigs.sum() == 1 and last_sig and gs[-1] < 0,
        "consecutive hotspot": consecutive(1),
        "consecutive coldspot": consecutive(-1),
        "intensifying hotspot": hot.sum() / n >= 0.9 and last_sig and tau > 0
        and tau_p < threshold,
        "intensifying coldspot": cold.sum() / n >= 0.9 and last_sig and tau < 0
        and tau_p <= threshold,
        "persistent hotspot": hot.sum() / n >= 0.9 and tau_p > threshold,
        "persistent coldspot": cold.sum() / n >= 0.9 and tau_p > threshold,
        "diminishing hotspot": hot.sum() / n >= 0.9 and last_sig and tau < 0
        and tau_p <= threshold,
        "diminishing coldspot": cold.sum() / n >= 0.9 and last_sig and tau > 0
        and tau_p <= threshold,
        "oscillating hotspot": hot.sum() / n <= 0.9 and gs[-1] > 0 and last_sig and cold.any(),
        "oscillating coldspot": cold.sum() / n < 0.9 and gs[-1] < 0 and last_sig and hot.any(),
        "historical hotspot": hot.sum() / n >= 0.9 and gs[-1] < 0,
        "historical coldspot": gs[-1] > 0 and cold.sum() / n >= 0.9,
        "sporadic hotspot": hot.sum() / n < 0.9 and not cold.any() and hot.any(),
        "sporadic coldspot": cold.sum() / n < 0.9 and not hot.any() and cold.any(),
    }
    for name in CLASS_ORDER[:-1]:
        if rules[name]:
            return name
    return "no pattern detected"


@dataclass
class EmergingResult:
    table: pd.DataFrame  # one row per unit
    z: np.ndarray  # (units, slices)
    p: np.ndarray
    slices: list[str]
    threshold: float
    note: str | None


def slice_labels(times: pd.Series, freq: str) -> pd.Series:
    """'2026-03' (month) or '2026Q1' (quarter) per timestamp (already WIB)."""
    if freq == "month":
        return times.dt.strftime("%Y-%m")
    if freq == "quarter":
        return times.dt.year.astype(str) + "Q" + times.dt.quarter.astype(str)
    raise ValueError("freq must be 'month' or 'quarter'")


def _slice_index(times: pd.Series, slices: list[str], freq: str) -> np.ndarray:
    """Position of each time's slice (:func:`slice_labels`) in ``slices``, -1 when not
    among them: through integer keys (year·4 + quarter or year·12 + month), not a label
    string per incident."""
    if freq not in ("month", "quarter"):
        raise ValueError("freq must be 'month' or 'quarter'")
    per = 12 if freq == "month" else 4
    part = times.dt.month if freq == "month" else times.dt.quarter
    key = times.dt.year.to_numpy(np.int64) * per + part.to_numpy(np.int64) - 1
    want = np.full(len(slices), -1, dtype=np.int64)
    for j, s in enumerate(slices):
        y, sep, rest = str(s).partition("-" if freq == "month" else "Q")
        if sep and y.isdigit() and rest.isdigit() and 1 <= int(rest) <= (
                12 if freq == "month" else 4):
            want[j] = int(y) * per + int(rest) - 1
    ok = np.nonzero(want >= 0)[0]  # labels that are no slice match nothing
    got = pd.Index(want[ok]).get_indexer(key)
    return np.where(got >= 0, ok[np.maximum(got, 0)], -1)


def all_slices(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> list[str]:
    """Every slice label from ``start`` (inclusive) to ``end`` (exclusive)."""
    rng = pd.period_range(start.tz_localize(None), end.tz_localize(None) - pd.Timedelta(1, "s"),
                          freq="M" if freq == "month" else "Q")
    return [str(p) if freq == "month" else f"{p.year}Q{p.quarter}" for p in rng]


def emerging_hotspots(incidents: pd.DataFrame, unit_codes, w, level: str, *,
                      freq: str = "quarter", slices: list[str] | None = None,
                      threshold: float = 0.05, permutations: int = 9999,
                      seed: int = 12345, fdr: bool = True,
                      early_stop: bool = True) -> EmergingResult:
    """Emerging hot spot classes of units over time slices.

    Parameters
    ----------
    incidents : DataFrame
        Filtered incidents with ``reported_at`` (WIB) and ``<level>_code``.
    unit_codes : sequence of str
        Units in the order of the weights ``w``.
    w : sparse matrix / libpysal W
        Binary spatial weights of the units.
    freq : {"quarter", "month"}
    slices : list of str, optional
        The slices to use, oldest first (default: from the first to the last incident).
    threshold : float
        Significance level for both the slice Gi* and the trend (sfdep's default
        is 0.01; 0.05 here).
    permutations : int
        Per slice. 9,999 by default: with FDR over m units the smallest p must beat
        ``threshold / m``, which 999 permutations (p ≥ 0.001) cannot for m > 50.
    fdr : bool
        Control the false discovery rate within each slice (Benjamini–Hochberg at
        ``threshold``) before calling a slice significant. Without it, a unit tested
        in 24 monthly slices at 5 % is "significant" at least once by chance most of
        the time, and turns up as a sporadic hot or cold spot. ``fdr=False`` is sfdep.
    early_stop : bool
        Let a unit stop drawing permutations once it is certain not to be significant at
        ``threshold`` (``gi_star(decide_alpha=threshold)``): every class is the same as
        with all permutations; ``p`` holds the sequential estimate for those units.
    """
    return emerging_hotspots_by(incidents, {None: None}, unit_codes, w, level, freq=freq,
                                slices=slices, threshold=threshold,
                                permutations=permutations, seed=seed, fdr=fdr,
                                early_stop=early_stop)[None]


def emerging_hotspots_by(incidents: pd.DataFrame, groups: dict, unit_codes, w, level: str,
                         *, by: str = "category", freq: str = "quarter",
                         slices: list[str] | None = None, threshold: float = 0.05,
                         permutations: int = 9999, seed: int = 12345, fdr: bool = True,
                         early_stop: bool = True) -> dict:
    """:func:`emerging_hotspots` of several subsets at once: ``groups`` maps a key to the
    values of ``by`` it keeps (a str or a list; None: every incident). The Gi* of one
    time slice runs for every subset in one pass over the permutations
    (:func:`geo_sigap.analytics.gistar.gi_star_many`: the neighbour draws are shared);
    each result equals ``emerging_hotspots`` of its subset alone. Returns key → result."""
    codes = pd.Index(list(unit_codes))
    w = _gi.star_weights(w)  # prepared once for every slice and subset
    col = f"{level}_code"
    if slices is None:
        slices = all_slices(incidents["reported_at"].min(), incidents["reported_at"].max()
                            + pd.Timedelta(1, "s"), freq)
    # counts per unit × slice (a crosstab through integer codes: no per-group Python)
    ui = codes.get_indexer(incidents[col])
    ti = _slice_index(incidents["reported_at"], list(slices), freq)
    ok = (ui >= 0) & (ti >= 0)
    cubes = {}
    for key, keep in groups.items():
        sel = ok if keep is None else ok & incidents[by].isin(
            [keep] if isinstance(keep, str) else list(keep)).to_numpy()
        cubes[key] = np.bincount(ui[sel] * len(slices) + ti[sel],
                                 minlength=len(codes) * len(slices)) \
            .reshape(len(codes), len(slices)).astype(np.float64)
    n_units, n_t = len(codes), len(slices)
    keys = list(groups)
    Z = {k: np.zeros((n_units, n_t)) for k in keys}
    P = {k: np.ones((n_units, n_t)) for k in keys}
    SIG = {k: np.zeros((n_units, n_t), dtype=bool) for k in keys}
    for t in range(n_t):
        live = [k for k in keys if cubes[k][:, t].sum() != 0]
        res = _gi.gi_star_many([cubes[k][:, t] for k in live], w, permutations=permutations,
                               seed=seed + t, decide_alpha=threshold if early_stop else None)
        for k, g in zip(live, res):
            Z[k][:, t] = np.nan_to_num(g.z, nan=0.0)
            P[k][:, t] = np.nan_to_num(g.p_folded, nan=1.0)
            cut = _gi.bh_cutoff(P[k][:, t], threshold) if fdr else threshold
            SIG[k][:, t] = P[k][:, t] <= cut
    return {k: _classified(codes, cubes[k], Z[k], P[k], SIG[k], list(slices), threshold)
            for k in keys}


def _classified(codes, cube, Z, P, SIG, slices, threshold) -> EmergingResult:
    n_units, n_t = cube.shape
    _, TAU, TAU_P = mann_kendall_rows(Z) if n_units else (np.zeros(0),) * 3
    names = np.full(n_units, "no pattern detected", dtype=object)
    # every rule needs a significant slice: only those units are classified one by one
    for i in np.nonzero(SIG.any(axis=1))[0]:
        names[i] = classify(Z[i], SIG[i], TAU[i], TAU_P[i], threshold)
    table = pd.DataFrame({
        "code": list(codes), "classification": names,
        "label": [LABELS_ID[x] for x in names], "tau": TAU.astype(np.float64),
        "trend_p": TAU_P.astype(np.float64), "n_slices": n_t,
        "n_hot": (SIG & (Z > 0)).sum(axis=1).astype(int),
        "n_cold": (SIG & (Z < 0)).sum(axis=1).astype(int),
        "last_z": Z[:, -1] if n_t else np.full(n_units, np.nan),
        "count_total": cube.sum(axis=1).astype(int),
        "count_last": cube[:, -1].astype(int) if n_t else np.zeros(n_units, int)})
    note = None
    min_p = mann_kendall_min_p(n_t)
    if min_p > threshold:
        note = (f"Hanya {n_t} irisan waktu: uji tren Mann-Kendall tidak mungkin signifikan "
                f"pada α = {threshold:g} (p terkecil yang mungkin {min_p:.3f}); kelas "
                f"'menguat' dan 'melemah' tidak dapat muncul. Gunakan irisan bulanan atau "
                f"rentang yang lebih panjang.")
    return EmergingResult(table=table, z=Z, p=P, slices=list(slices),
                          threshold=threshold, note=note)
