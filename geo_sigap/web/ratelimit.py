"""Per-client request limits for the anonymous endpoints (citizen reports, ticket status).

A sliding one-hour window per (limit name, client address), kept in this process's memory:
with several workers each enforces its own share. Behind a reverse proxy, run uvicorn with
``--proxy-headers --forwarded-allow-ips`` so that ``request.client`` is the citizen's.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import Request

from geo_sigap.errors import TooManyRequests

WINDOW_S = 3600.0


class SlidingWindow:
    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, name: str, key: str, limit: int, now: float | None = None) -> float | None:
        """Count one request; ``None`` if allowed, else seconds until the next is allowed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.setdefault((name, key), deque())
            while q and q[0] <= now - WINDOW_S:
                q.popleft()
            if len(q) >= limit:
                return q[0] + WINDOW_S - now
            q.append(now)
            if len(self._hits) > 50_000:  # forget idle clients
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW_S]:
                    del self._hits[k]
            return None


def limit(name: str, setting: str):
    """A FastAPI dependency enforcing ``settings.<setting>`` requests/hour per client."""

    def dependency(request: Request) -> None:
        per_hour = int(getattr(request.app.state.settings, setting))
        if per_hour <= 0:
            return
        state = request.app.state
        if not hasattr(state, "rate_limits"):
            state.rate_limits = SlidingWindow()
        client = request.client.host if request.client else "unknown"
        wait = state.rate_limits.hit(name, client, per_hour)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            raise TooManyRequests(
                f"Terlalu banyak permintaan dari alamat ini (batas {per_hour} per jam). "
                f"Coba lagi dalam {minutes} menit, atau hubungi hotline.",
                f"Too many requests from this address (limit {per_hour} per hour). "
                f"Try again in {minutes} min, or call the hotline.",
                retry_after_s=round(wait),
            )

    return dependency


class LoginThrottle:
    """Failed sign-ins, counted per (username, client address) and per client address.

    After ``max_failures`` failures of one username from one address within
    ``window_s`` seconds, that pair is locked for ``base_lock_s`` seconds, doubling with
    every further failure up to ``max_lock_s``; an address with ``max_client_failures``
    failures (any usernames) in the window is locked for ``window_s``. A successful
    sign-in clears its pair. Kept in this process's memory (each worker counts its own).
    Locked pairs are refused before the password is checked, whether or not the account
    exists, so the lock reveals nothing about accounts.
    """

    def __init__(self, *, max_failures: int = 5, window_s: float = 900.0,
                 base_lock_s: float = 30.0, max_lock_s: float = 900.0,
                 max_client_failures: int = 50) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.base_lock_s = base_lock_s
        self.max_lock_s = max_lock_s
        self.max_client_failures = max_client_failures
        self._fails: dict[tuple, deque[float]] = {}
        self._locked: dict[tuple, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, client: str) -> tuple[tuple, tuple]:
        return ("user", (username or "").strip().lower()[:100], client), ("client", client)

    def wait_s(self, username: str, client: str, now: float | None = None) -> float | None:
        """Seconds until ``username`` may try again from ``client``; ``None``: now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [self._locked.get(k, 0.0) - now for k in self._keys(username, client)]
        wait = max(waits)
        return wait if wait > 0 else None

    def failed(self, username: str, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        pair, addr = self._keys(username, client)
        with self._lock:
            for key, limit in ((pair, self.max_failures), (addr, self.max_client_failures)):
                q = self._fails.setdefault(key, deque())
                while q and q[0] <= now - self.window_s:
                    q.popleft()
                q.append(now)
                if len(q) >= limit:
                    lock = (min(self.max_lock_s, self.base_lock_s * 2 ** (len(q) - limit))
                            if key is pair else self.window_s)
                    self._locked[key] = now + lock
            if len(self._fails) > 50_000:  # forget idle entries
                for k in [k for k, q in self._fails.items()
                          if not q or q[-1] <= now - self.window_s]:
                    self._fails.pop(k, None)
                    if self._locked.get(k, 0.0) <= now:
                        self._locked.pop(k, None)

    def succeeded(self, username: str, client: str) -> None:
        pair, _ = self._keys(username, client)
        with self._lock:
            self._fails.pop(pair, None)
            self._locked.pop(pair, None)


def login_throttle(request: Request) -> LoginThrottle:
    """The app's :class:`LoginThrottle` (made on first use)."""
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        state.login_throttle = LoginThrottle()
    return state.login_throttle


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def refuse_locked_login(wait_s: float) -> None:
    """Raise the 429 answer for a locked sign-in (``wait_s`` seconds left)."""
    minutes = max(1, round(wait_s / 60))
    raise TooManyRequests(
        f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit.",
        f"Too many failed sign-in attempts. Try again in {minutes} min.",
        retry_after_s=max(1, round(wait_s)))
