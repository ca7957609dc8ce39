"""How good was a hotspot map? Hit rate, PAI and PEI against later incidents.

For hotspot areas ``H`` (a set of cells or units) chosen from one period and the
incidents ``n`` of the next period in a study area of area ``A``:

- hit rate = ``n_H / N`` (share of next-period incidents inside ``H``);
- PAI (Prediction Accuracy Index, Chainey et al. 2008) = ``(n_H / N) / (a_H / A)``;
- PEI (Prediction Efficiency Index, Hunt 2016) = ``n_H / n*``, where ``n*`` is the
  most incidents any set of cells with the same total area could have caught; equal
  to ``PAI / PAI*``. With unequal units, ``n*`` is found greedily by incident density
  (exact for equal-area cells such as the hexagonal grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HotspotScore:
    hit_rate: float
    pai: float
    pei: float
    n_hot: int
    n_total: int
    area_share: float

    def as_dict(self) -> dict:
        return {"hit_rate": self.hit_rate, "pai": self.pai, "pei": self.pei,
                "n_hot": self.n_hot, "n_total": self.n_total, "area_share": self.area_share}


def score_hotspots(hot, next_counts, areas=None) -> HotspotScore:
    """Score hotspot cells ``hot`` (bool per cell) against ``next_counts`` per cell.

    Parameters
    ----------
    hot : bool array (cells,)
        The hotspot cells chosen from the earlier period.
    next_counts : array (cells,)
        Incidents of the next period per cell.
    areas : array (cells,), optional
        Cell areas (any unit); equal areas when omitted.
    """
    hot = np.asarray(hot, dtype=bool)
    c = np.asarray(next_counts, dtype=np.float64)
    a = np.ones_like(c) if areas is None else np.asarray(areas, dtype=np.float64)
    N, A = c.sum(), a.sum()
    n_h, a_h = c[hot].sum(), a[hot].sum()
    if N == 0 or a_h == 0:
        return HotspotScore(0.0, float("nan"), float("nan"), int(n_h), int(N), a_h / A)
    hit = n_h / N
    pai = hit / (a_h / A)
    # best possible capture with the same area: densest cells first (fractional
    # greedy; exact for equal areas, where it is the top-k cells)
    n_star, remaining = 0.0, a_h
    for i in np.argsort(-(c / a), kind="stable"):
        if remaining <= 1e-12 * a_h:
            break
        take = min(a[i], remaining)
        n_star += c[i] * take / a[i]
        remaining -= take
    pei = n_h / n_star if n_star > 0 else float("nan")
    return HotspotScore(float(hit), float(pai), float(pei), int(n_h), int(N), float(a_h / A))
