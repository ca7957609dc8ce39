"""esda's answers on the fixed cases of ``test_gistar.py``, recorded once.

esda JIT-compiles its permutation kernels (numba, without a cache) in every process:
about 20 s of CPU before its first answer, on every test run. The tests compare with
these recorded answers instead; ``benchmarks.analytics`` still runs esda live, in the
same run as ours, and compares the answers. After an esda upgrade (the test of the
recorded version fails), record them again::

    python -m tests.analytics.esda_reference
"""

from __future__ import annotations

import json
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

FILE = Path(__file__).resolve().parent / "data" / "esda_reference.npz"

# the fixed cases: an 8 × 8 queen lattice (libpysal's lat2W, rook=False)
GI_Y = dict(seed=1, shape=2.0, scale=1.5)       # gamma values: no ties
GI_RUN = dict(permutations=999, seed=11)
MORAN_Y = dict(seed=2, lam=4)                   # Poisson counts
MORAN_RUN = dict(permutations=999, seed=5)
STREAM = (6, 50, 20, 3)                         # vec_permutations(n_neighbours, n, draws, seed)


def lattice():
    from libpysal.weights import lat2W

    return lat2W(8, 8, rook=False)


def gi_values() -> np.ndarray:
    return np.random.default_rng(GI_Y["seed"]).gamma(GI_Y["shape"], GI_Y["scale"], 64)


def moran_values() -> np.ndarray:
    return np.random.default_rng(MORAN_Y["seed"]).poisson(MORAN_Y["lam"], 64).astype(float)


def load() -> dict:
    with np.load(FILE) as z:
        out = {k: z[k] for k in z.files}
    out["meta"] = json.loads(str(out.pop("meta")))
    return out


def record() -> dict:
    import esda
    from esda.crand import vec_permutations

    w = lattice()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(gi_values(), w, star=True, transform="R", n_jobs=1, **GI_RUN)
        m = esda.Moran_Local(moran_values(), w, n_jobs=1, **MORAN_RUN)
    meta = {"esda": version("esda"), "libpysal": version("libpysal"), "numpy": np.__version__}
    data = {"gi_z": g.Zs, "gi_G": g.Gs, "gi_p_sim": g.p_sim, "moran_Is": m.Is,
            "moran_p_sim": m.p_sim, "stream": vec_permutations(*STREAM),
            "meta": np.array(json.dumps(meta))}
    FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FILE, **data)
    return meta


if __name__ == "__main__":
    print(f"recorded {FILE} with", record())
