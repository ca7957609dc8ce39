"""The cyclic garbage collector during a service start.

A start makes a few hundred thousand objects that live as long as the process (modules,
the web app's routes, numba's typing tables, the engines); the collector went over that
growing heap again and again — about a third of a start's CPU (1.1 of 4.0 s, measured on
the city graph of ``benchmarks.startup``). :func:`pause_collections` turns it off for the
start (the first thing ``geo-sigap serve`` does, before its heavy imports);
:func:`resume_collections` moves what was made so far out of its view for good and turns
it on again once the service is ready. The warm-up's end
(:meth:`geo_sigap.services.Services.start_warm_up`) unfreezes, collects the start's
garbage and freezes the survivors again.
"""

from __future__ import annotations

import gc


def pause_collections() -> None:
    """No cyclic garbage collections until :func:`resume_collections`."""
    gc.disable()


def resume_collections() -> None:
    """What exists now leaves the collector's view (``gc.freeze``); collections resume."""
    gc.freeze()
    gc.enable()
