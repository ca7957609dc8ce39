"""Schemathesis against the OpenAPI document, bounded: every operation, a few generated
examples each, signed in as operator and as admin, on SQLite and PostGIS. No answer may
be a server error (5xx), and every status code and content type must be the ones the
document declares.

The run is small on purpose (``EXAMPLES`` per operation and role) so that it stays a
few seconds per backend; raise it locally to fuzz harder::

    GEO_SIGAP_FUZZ_EXAMPLES=50 python -m pytest tests/security/test_fuzz_openapi.py
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("GEO_SIGAP_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


def _runner(op, headers: dict[str, str]):
    h = {} if op.path == "/api/auth/logout" else dict(headers)  # keep the run's token

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def run(case):
        if op.path == "/api/events":
            case.query = {**(case.query or {}), "follow": "false"}  # no endless stream
        case.call_and_validate(headers=h, checks=CHECKS)

    return run


def _fuzz(app, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        label = f"{op.method.upper()} {op.path}"

        run = _runner(op, headers)
        try:
            run()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{label}: {str(exc).strip()[:600]}")
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("who", ["operator", "admin"])
def test_fuzzing_finds_no_server_error_and_no_undocumented_answer(client, auth, who):
    failures = _fuzz(client.app, auth[who])
    assert failures == [], "\n\n".join(failures)
