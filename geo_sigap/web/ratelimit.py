"""Per-client request limits for the anonymous endpoints (citizen reports, ticket status).

A sliding one-hour window per (limit name, client address), kept in this process's memory:
with several workers each enforces its own share. The client address is the TCP peer,
or — only when the peer is one of the proxies listed in ``GEO_SIGAP_FORWARDED_ALLOW_IPS``
(``geo-sigap serve`` passes it to uvicorn; default: none) — the address the proxy
forwarded. A client can therefore not pick its own address with ``X-Forwarded-For``.
Sign-ins are throttled per account instead (:class:`LoginThrottle`).
"""

from __future__ import annotations

import math
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
    """Failed sign-ins, counted per account (the username, case-insensitive), from
    whatever address they come.

    The first ``free_failures`` failures within ``window_s`` seconds cost nothing; after
    that each attempt must wait ``base_delay_s`` × 2^(failures − free_failures) seconds
    (at most ``max_delay_s``) after the last failure. Attempts refused while waiting are
    not counted, a successful sign-in clears the account, and failures older than the
    window are forgotten. There is no lock on a whole address: one posko behind a NAT
    (or a proxy) is never locked out because of one colleague's typos or another
    account's attacker. Unknown usernames are throttled the same way, so the answer
    reveals nothing about which accounts exist. Kept in this process's memory (each
    worker counts its own).
    """

    def __init__(self, *, free_failures: int = 5, window_s: float = 3600.0,
                 base_delay_s: float = 1.0, max_delay_s: float = 300.0) -> None:
        self.free_failures = free_failures
        self.window_s = window_s
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str) -> str:
        return (username or "").strip().lower()[:100]

    def _recent(self, key: str, now: float) -> deque[float] | None:
        q = self._fails.get(key)
        if q is not None:
            while q and q[0] <= now - self.window_s:
                q.popleft()
        return q

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after the last of ``failures`` recent failures."""
        if failures < self.free_failures:
            return 0.0
        return min(self.max_delay_s,
                   self.base_delay_s * 2 ** min(60, failures - self.free_failures))

    def wait_s(self, username: str, now: float | None = None) -> float | None:
        """Seconds until ``username`` may try again; ``None``: now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._recent(self._key(username), now)
            if not q:
                return None
            wait = q[-1] + self.delay_after(len(q)) - now
        return wait if wait > 0 else None

    def failed(self, username: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = self._key(username)
        with self._lock:
            q = self._recent(key, now)
            if q is None:
                q = self._fails[key] = deque()
            q.append(now)
            if len(self._fails) > 50_000:  # forget idle accounts
                for k in [k for k, v in self._fails.items()
                          if not v or v[-1] <= now - self.window_s]:
                    del self._fails[k]

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(self._key(username), None)


def login_throttle(request: Request) -> LoginThrottle:
    """The app's :class:`LoginThrottle` (made on first use)."""
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        state.login_throttle = LoginThrottle()
    return state.login_throttle


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def refuse_locked_login(wait_s: float) -> None:
    """Raise the 429 answer for a throttled sign-in (``wait_s`` seconds left)."""
    seconds = max(1, math.ceil(wait_s))
    when_id = (f"{seconds} detik" if seconds < 90 else f"{round(seconds / 60)} menit")
    when_en = (f"{seconds} s" if seconds < 90 else f"{round(seconds / 60)} min")
    raise TooManyRequests(
        f"Terlalu banyak percobaan masuk yang gagal untuk akun ini. Coba lagi dalam "
        f"{when_id}.",
        f"Too many failed sign-in attempts for this account. Try again in {when_en}.",
        retry_after_s=seconds)
