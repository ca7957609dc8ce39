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
