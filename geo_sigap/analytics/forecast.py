"""Did last quarter's hotspots predict this quarter? PAI, PEI* and RRI.

For hotspot cells ``H`` chosen from the earlier period, incidents ``c1`` (earlier) and
``c2`` (this period) per cell and cell areas ``a``:

- hit rate = ``n2_H / N2``; area share = ``a_H / A``;
- PAI (Chainey et al. 2008) = hit rate / area share: how many times more incidents per
  km² inside the hotspots than in the whole area;
- PEI* (Hunt 2016) = ``n2_H / n2*``, ``n2*`` the most incidents of this period any set of
  cells with the same area could have caught (= PAI / PAI*): 1 is a perfect choice;
- RRI (Recapture Rate Index, Levine 2008) = ``(n2_H / n1_H) / (N2 / N1)``: above 1 the
  hotspots kept more of their incidents than the whole area did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo_sigap.analytics.evaluation import score_hotspots


@dataclass(frozen=True)
class ForecastScore:
    n_cells: int
    area_share: float
    n_prev_hot: int
    n_prev_total: int
    n_hot: int
    n_total: int
    hit_rate: float
    pai: float
    pei_star: float
    rri: float


def score_forecast(hot, prev_counts, counts, areas=None) -> ForecastScore:
    """Score last period's hotspot cells ``hot`` on this period's ``counts``."""
    hot = np.asarray(hot, dtype=bool)
    c1 = np.asarray(prev_counts, dtype=float)
    c2 = np.asarray(counts, dtype=float)
    s = score_hotspots(hot, c2, areas)
    n1h, n1 = c1[hot].sum(), c1.sum()
    n2h, n2 = c2[hot].sum(), c2.sum()
    rri = (n2h / n1h) / (n2 / n1) if n1h > 0 and n1 > 0 and n2 > 0 else float("nan")
    return ForecastScore(int(hot.sum()), s.area_share, int(n1h), int(n1), int(n2h), int(n2),
                         s.hit_rate, s.pai, s.pei, float(rri))
