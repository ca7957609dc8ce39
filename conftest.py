"""Repository-wide pytest rules.

In CI (``CI=true`` or ``GEO_SIGAP_REQUIRE_ALL=1``) a test marked ``postgis``,
``spatialite``, ``realdata`` or ``browser`` — or parametrized on the ``postgis`` or
``spatialite`` backend — that is skipped FAILS the
run: a skip must never hide a backend or the real-data checks (cf. geoalchemy2's
``--require-all-dialects``).
"""

from __future__ import annotations

import os

import pytest

GUARDED = ("postgis", "spatialite", "realdata", "browser")
BACKENDS = ("postgis", "spatialite")  # a parametrized backend in the test id is guarded too


def _strict() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get(
        "GEO_SIGAP_REQUIRE_ALL") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not _strict():
        return
    guarded = any(item.get_closest_marker(m) for m in GUARDED) or any(
        b in item.name for b in BACKENDS)
    if guarded:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"Skipped in CI, which is not allowed for this test: {reason}"
