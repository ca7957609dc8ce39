"""The C allocator of a worker process (glibc on Linux): fewer arenas, freed pages returned.

Why: glibc gives each thread that allocates while another holds the lock an arena of its
own, up to 8 per core (16 on a 2-core machine). Requests run on the thread pool of the
web server (up to 40 threads), so under concurrent load the worker ends up with one arena
per busy thread; each keeps its high-water mark of freed memory, and the resident memory
ratchets up with every arena a new thread touches, while the Python heap stays level
(``benchmarks.soak``: about 120 MB more after five minutes of 8 concurrent clients).
:func:`limit_arenas` caps them (``Settings.malloc_arena_max``, default 2) before the pool
starts; :func:`release_free_memory` hands the free pages of every arena back to the
system (after the warm-up, which builds and drops large temporary tables), and
:func:`release_free_memory_soon` does it in the background a moment after a request's
large temporary work (an analytics answer computed).

Both are no-ops where the C library is not glibc (the calls do not exist there) and
``limit_arenas`` leaves an operator's own ``MALLOC_ARENA_MAX`` alone.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

M_ARENA_MAX = -8  # mallopt parameter number (malloc.h)

_LIBC: ctypes.CDLL | None | bool = False  # False: not looked up yet


def _glibc() -> ctypes.CDLL | None:
    global _LIBC
    if _LIBC is False:
        _LIBC = None
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None)
                if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim"):
                    libc.malloc_trim.argtypes = [ctypes.c_size_t]
                    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                    _LIBC = libc
            except OSError:
                pass
    return _LIBC  # type: ignore[return-value]


def limit_arenas(arena_max: int) -> bool:
    """At most ``arena_max`` malloc arenas for this process from now on (0: glibc's own
    default). Call before the request threads start: arenas made earlier stay. Returns
    whether the limit was set (not on other C libraries, nor when ``MALLOC_ARENA_MAX``
    is in the environment: glibc read it at start and it wins)."""
    if arena_max <= 0 or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, int(arena_max)) == 1)


def release_free_memory() -> bool:
    """Return the free pages of every malloc arena to the system (``malloc_trim(0)``):
    resident memory drops to what is in use. Takes milliseconds; meant after large
    temporary work (the warm-up), not per request. Returns whether anything was
    released."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))


_SOON = threading.Lock()
_wake = threading.Event()  # set: a trim is pending
_delay = [2.0]
_trimmer: threading.Thread | None = None


def release_free_memory_soon(delay_s: float = 2.0) -> bool:
    """Run :func:`release_free_memory` once, ``delay_s`` seconds from now, in one
    background thread (started once, then waiting); calls while a trim is pending join
    it. Meant after work that allocates and drops large temporary tables on a request
    thread (an analytics answer computed: a quarter's rows filtered, counted, gridded),
    so that the worker's resident memory returns to what it holds (about 18 MB at the
    city scale of ``benchmarks.scale``, L) without the request waiting for the trim (a
    few ms). Returns whether a trim was scheduled now."""
    global _trimmer
    if _glibc() is None:
        return False
    with _SOON:
        if _wake.is_set():
            return False
        _delay[0] = delay_s
        _wake.set()
        if _trimmer is None or not _trimmer.is_alive():
            _trimmer = threading.Thread(target=_trim_when_woken, daemon=True,
                                        name="geo-sigap-malloc-trim")
            _trimmer.start()
        return True


def _trim_when_woken() -> None:
    import time

    while True:
        _wake.wait()
        time.sleep(_delay[0])
        with _SOON:
            _wake.clear()  # a call from now on schedules the next trim
        release_free_memory()
