"""Real headless Chromium (Debian's) against the real app on 127.0.0.1.

Tests here are marked ``browser``. They skip, with the reason, only when Chromium or
Playwright is missing and ``CI`` is not set; in CI they must run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("GEO_SIGAP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require_browser():
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install playwright)"
    if reason is None and not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)


class _Template:
    """The demo database of a kind (plain or ``--history``), built once per session by
    ``_server.py --build-only``; each server starts on a copy of it."""

    def __init__(self, root: Path, history: bool):
        self.dir = root / ("history" if history else "plain")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.dir / "build.log", "w+")
        args = ["--build-only"] + (["--history"] if history else [])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.browser._server", str(self.dir), "0", *args],
            cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)

    def copy_to(self, data: Path) -> None:
        if self.proc.wait(600) != 0:
            self.log.seek(0)
            raise RuntimeError("demo template build failed:\n" + self.log.read()[-3000:])
        for name in ("browser.db", "browser.db-wal", "browser.db-shm"):
            if (self.dir / name).exists():
                shutil.copyfile(self.dir / name, data / name)


_TEMPLATES: dict[bool, _Template] = {}


def _template(tmp_path_factory, history: bool) -> _Template:
    """Both templates start building (in parallel: two cores) at the first request."""
    if not _TEMPLATES:
        root = tmp_path_factory.mktemp("demo_templates")
        for h in (history, not history):
            _TEMPLATES[h] = _Template(root, h)
    return _TEMPLATES[history]


_ROAD_CACHES: list[Path] = []


def _share_road_caches(tmp_path_factory, data: Path) -> None:
    """The servers of a session share the caches made from the demo's road file (the
    graph, its landmark tables, the street names; keyed by the file's content): the
    first server builds them, the later ones load them. Servers run one at a time."""
    if not _ROAD_CACHES:
        _ROAD_CACHES.append(tmp_path_factory.mktemp("demo_road_caches"))
    cache = data / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("routing", "geocoding"):
        (_ROAD_CACHES[0] / name).mkdir(exist_ok=True)
        (cache / name).symlink_to(_ROAD_CACHES[0] / name, target_is_directory=True)


class Server:
    def __init__(self, data: Path, extra: list[str], template: _Template | None = None):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if template is not None:
            template.copy_to(data)
            extra = [a for a in extra if a != "--history"] + ["--prebuilt"]
        self.log = open(data / "server.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.browser._server", str(data), str(self.port), *extra],
            cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 240
        import urllib.request

        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("server died:\n" + self.log.read()[-3000:])
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.proc.kill()  # else it outlives the session (no fixture will stop it)
        self.proc.wait()
        self.log.close()
        raise RuntimeError("server did not start in time")

    def stop(self):
        """Its database is thrown away: no need to wait out uvicorn's graceful shutdown,
        which lasts until open event streams end (10 s per module before)."""
        self.proc.terminate()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def start_server(tmp_path_factory, name: str, extra: list[str] | None = None) -> Server:
    """A server of its own for a test module, on a fresh copy of the session's demo
    database (``--history``: with the incident history)."""
    _require_browser()
    extra = list(extra or [])
    template = _template(tmp_path_factory, "--history" in extra)
    data = tmp_path_factory.mktemp(name)
    _share_road_caches(tmp_path_factory, data)
    return Server(data, extra, template)


def pytest_sessionfinish(session):
    for t in _TEMPLATES.values():
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.wait()
        t.log.close()
    _TEMPLATES.clear()
    _ROAD_CACHES.clear()


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests (each test opens its own contexts)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _close_contexts(request):
    """The contexts a test opened are closed when it ends: a page left open keeps living
    (its stream, its timers, its animations) through every later test of the session,
    and took CPU from them (a 5,000-incident map left open took most of a core)."""
    if "browser" not in request.fixturenames:
        yield
        return
    b = request.getfixturevalue("browser")
    before = list(b.contexts)
    yield
    for c in b.contexts:
        if c not in before:
            c.close()


ENDLESS_ANIMATIONS = """() => document.getAnimations()
  .filter((a) => a.playState === 'running' && a.effect && a.effect.getComputedTiming().iterations === Infinity)
  .map((a) => ((a.effect.target && a.effect.target.parentElement) ? a.effect.target.parentElement.className : '?') + ': ' + (a.animationName || a.id))"""


def endless_animations(page) -> list[str]:
    """The animations running without end on the page (what each animates and how)."""
    return page.evaluate(ENDLESS_ANIMATIONS)


class Requests:
    """Every URL any page asked for, to prove nothing left 127.0.0.1."""

    def __init__(self):
        self.urls: list[str] = []

    def watch(self, context):
        context.on("request", lambda req: self.urls.append(req.url))
        return context

    def foreign(self) -> list[str]:
        out = []
        for u in self.urls:
            parts = urlsplit(u)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != "127.0.0.1":
                out.append(u)
        return out


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def login(context, base: str, username: str, next_path: str):
    page = context.new_page()
    page.goto(f"{base}/masuk?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", username + "123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")
    return page


def late_answers(match: str, *, asked: str, answers: str, ms: int = 3000,
                 first_only: bool = False) -> str:
    """An init script for a slow network: a fetch whose path ``p`` passes the JavaScript
    test ``match`` is sent at once and its answer handed over ``ms`` late (with
    ``first_only``: only the first such fetch's; the others at once). ``window[asked]``
    counts those fetches as they are sent, ``window[answers]`` as their answers are
    handed over."""
    return f"""(() => {{ const real = window.fetch; window.{asked} = 0; window.{answers} = 0;
  window.fetch = async (path, init) => {{
    const p = String(path);
    const hit = Boolean({match});
    const late = hit && ({str(not first_only).lower()} || window.{asked} === 0);
    if (hit) window.{asked}++;
    const res = await real(path, init);
    if (late) {{
      const body = await res.text();
      await new Promise((r) => setTimeout(r, {ms}));
      window.{answers}++;
      return new Response(body, {{ status: res.status, headers: res.headers }});
    }}
    if (hit) window.{answers}++;
    return res;
  }}; }})()"""
