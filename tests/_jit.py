"""Compile each numba kernel once per test run, whichever process asks first.

A clean clone has no compiled kernels (numba ``cache=True`` writes them beside the
package's modules). The suite runs them in two xdist workers, the browser tests' server
and template processes, and child processes: each would compile the same kernels at
about the same time (~40 s of CPU apiece, on two cores). :func:`share_compilation` makes
the compilation of one kernel take a file lock beside that kernel's cache index: the first
process compiles and saves, the others wait and then load what it saved (numba reads the
index again at each compilation). :func:`start_precompiling` starts, before the workers
exist, a child process (``python -m tests._jit``) that compiles the kernels the suite uses
most, on tiny inputs, while the workers import and collect.

Deadlock-free: a lock is taken only while numba's own process-wide compiler lock is held
(one compilation at a time per process), and nested locks follow the call graph of the
kernels, which has no cycles.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_installed = False


def share_compilation() -> None:
    """Install the per-kernel file lock in this process (idempotent; no-op without numba
    or on a platform without ``fcntl``)."""
    global _installed
    if _installed:
        return
    try:
        import fcntl

        from numba.core import sigutils
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.dispatcher import Dispatcher
    except ImportError:
        return
    original = Dispatcher.compile

    def compile(self, sig):
        index = getattr(getattr(getattr(self, "_cache", None), "_cache_file", None),
                        "_index_path", None)
        if index is None:  # no cache=True: nothing to share
            return original(self, sig)
        with global_compiler_lock:
            args, _ = sigutils.normalize_signature(sig)
            if tuple(args) in self.overloads:
                return original(self, sig)
            try:
                os.makedirs(os.path.dirname(index), exist_ok=True)
                lock = open(index + ".lock", "a")
            except OSError:  # a cache folder we cannot write to: numba copes on its own
                return original(self, sig)
            with lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    return original(self, sig)  # loads what another process saved, or compiles
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    Dispatcher.compile = compile
    _installed = True


def start_precompiling() -> subprocess.Popen | None:
    """The child process compiling the common kernels, or ``None`` when numba is absent."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.Popen([sys.executable, "-m", "tests._jit"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _precompile() -> None:
    """The kernels in the order the suite first needs them: the reverse geocoder (every
    report), the routing engine (suggestions), then Gi*, Local Moran and the Knox test.
    Inputs are tiny; the dtypes and array layouts are those of the real calls."""
    import tempfile

    import numpy as np

    from geo_sigap.settings import Settings
    from tests.conftest import IN_RT1, IN_RT2, OUTSIDE, TINY_OSM, tiny_units

    with tempfile.TemporaryDirectory(prefix="geo_sigap_jit_") as tmp:
        from geo_sigap.geocoding.reverse import ReverseGeocoder

        geocoder = ReverseGeocoder.from_units(tiny_units())
        geocoder.locate(*IN_RT1)
        for ro_x in (False, True):  # read-only arrays (pandas' copy-on-write) compile apart
            for ro_y in (False, True):
                xs = np.array([IN_RT1[0], IN_RT2[0], OUTSIDE[0]])
                ys = np.array([IN_RT1[1], IN_RT2[1], OUTSIDE[1]])
                xs.setflags(write=not ro_x)
                ys.setflags(write=not ro_y)
                geocoder.locate_many(xs, ys)

        from geo_sigap.services import warm_caches

        settings = Settings(data_dir=Path(tmp), road_network=TINY_OSM,
                            database_url=f"sqlite:///{tmp}/jit.db",
                            secret_key="precompile-secret-0123456789")
        warm_caches(settings, ("routing", "gi"))
        try:  # the contraction hierarchy's kernels (graphs above the tiny one use them)
            from geo_sigap.routing.hierarchy import warm_up_kernels
        except ImportError:
            pass
        else:
            warm_up_kernels()

        from geo_sigap.analytics.gistar import gi_star, gi_star_many, local_moran

        rng = np.random.default_rng(0)
        a = np.zeros((9, 9))
        for i in range(9):
            for j in (i - 1, i + 1, i - 3, i + 3):
                if 0 <= j < 9:
                    a[i, j] = 1.0
        import scipy.sparse as sp

        y = rng.poisson(2.0, 9).astype(float)
        for w in (sp.csr_matrix(a), sp.csr_matrix(a * np.linspace(0.5, 1.5, 81).reshape(9, 9))):
            for stream in ("fast", "esda"):  # equal and unequal weights, both streams
                for decide in (None, 0.05):
                    gi_star(y, w, permutations=99, seed=1, stream=stream, decide_alpha=decide)
                    gi_star_many([y, y + 1], w, permutations=99, seed=1, stream=stream,
                                 decide_alpha=decide)
        local_moran(y, w, permutations=19, seed=1, stream="esda")

        from geo_sigap.analytics.nearrepeat import knox_test

        knox_test(rng.uniform(0, 500, 30), rng.uniform(0, 500, 30), rng.uniform(0, 60, 30),
                  time_days=7, permutations=19, seed=1)  # whole days, as the analyses ask


if __name__ == "__main__":
    share_compilation()
    _precompile()
