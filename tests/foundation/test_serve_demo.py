"""`geo-sigap serve --demo` starts on the demo area, creating its database on first run."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_demo_answers_health(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SIGAP_")}
    env["GEO_SIGAP_DEMO_DIR"] = str(tmp_path / "demo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "geo_sigap.cli.main", "serve", "--demo", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        body = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stdout.read()[-3000:]}")
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                if r.status_code == 200:
                    body = r.json()
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert body is not None, "no /health answer in time"
        assert body["status"] == "ok" and body["demo"] is True
        assert body["database"] == "sqlite"
        assert body["counts"]["units"] > 100  # 6 kelurahan + RW + RT + parents
        assert body["counts"]["teams"] > 10
        assert body["counts"]["incidents"] > 5000  # two years of history
        assert (tmp_path / "demo" / "geo_sigap.db").exists()
        assert isinstance(body["warm"], bool)  # (waiting for it: a cold compile in CI)
        # generous: right after /health the first start is still warming up (two cores shared)
        openapi = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=60).json()
        assert "/health" in openapi["paths"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
