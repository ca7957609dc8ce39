"""The order in which ``--dist loadfile`` hands test modules to the xdist workers.

A module's tests stay together on one worker, in file order (its module-scoped set-up is
made once), and all of ``tests/browser`` is one unit (one Chromium and one pair of demo
templates, and never two browser tests fighting over two cores). Units are sent longest
first (LPT: each worker takes the next when it is almost done), so that the workers
finish at about the same time instead of one waiting on a long module sent last. The
lengths are the seconds each unit took in a full run, ``tests/unit_seconds.json``; a
unit not in it (a new module) counts ``DEFAULT_S_PER_TEST`` per test.

Refresh the lengths after a full run with ``--durations=0``::

    python -m pytest -n 3 --dist loadfile --durations=0 -q > out.txt
    python -m tests._schedule out.txt > tests/unit_seconds.json

Only the order depends on these numbers, never a result.
"""

from __future__ import annotations

import json
import re
import sys
from collections import OrderedDict
from pathlib import Path

SECONDS = Path(__file__).resolve().parent / "unit_seconds.json"
DEFAULT_S_PER_TEST = 0.15
BROWSER = "tests/browser"


def unit_of(path: str) -> str:
    """The work unit of a module path (``tests/browser/…`` is one unit)."""
    return BROWSER if path.startswith(BROWSER + "/") else path


def load_seconds() -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(SECONDS.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def make_scheduler(config, log):
    from xdist.scheduler import LoadFileScheduling

    seconds = load_seconds()

    def weight(unit: str, tests) -> float:
        known = seconds.get(unit)
        return known if known is not None else DEFAULT_S_PER_TEST * len(tests)

    class LongestFirst(OrderedDict):
        """Kept in descending length at every insertion (xdist fills it, then pops from
        the front)."""

        def __setitem__(self, key, value):
            super().__setitem__(key, value)
            for k in sorted(self, key=lambda u: -weight(u, self[u])):
                self.move_to_end(k)

    class ModulesLongestFirst(LoadFileScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            self.workqueue = LongestFirst()

        def _split_scope(self, nodeid: str) -> str:
            return unit_of(super()._split_scope(nodeid))

    return ModulesLongestFirst(config, log)


_LINE = re.compile(r"^\s*([0-9.]+)s\s+(setup|call|teardown)\s+(\S+?)::")


def seconds_from_durations(text: str) -> dict[str, float]:
    """Seconds per unit from pytest's ``--durations=0`` report."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            unit = unit_of(m.group(3))
            out[unit] = out.get(unit, 0.0) + float(m.group(1))
    return {k: round(v, 1) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


if __name__ == "__main__":
    print(json.dumps(seconds_from_durations(Path(sys.argv[1]).read_text()), indent=1))
