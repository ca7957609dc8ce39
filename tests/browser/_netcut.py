"""A TCP relay in front of the test server whose network can really be cut.

The browser talks to ``relay.base``; the relay forwards to the server. ``cut()`` closes
every open connection and refuses new ones (connection reset), so pages, the service
worker and the event stream all lose the network for real; ``lossy()`` forwards requests
but drops every answer (the server acts, the phone never hears back — the case a resend
must not repeat); ``restore()`` relays normally again; ``throttle(kbit_s, rtt_ms)`` makes it a slow
mobile link for everything (pages and the service worker alike): each direction shares
``kbit_s`` and a burst after a pause waits half the round trip. Loopback only; it stops
with ``close()``.
"""

from __future__ import annotations

import socket
import threading
import time


class Relay:
    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.mode = "open"
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = False
        self.accepted = 0
        self.up_bytes = 0  # bytes the browser sent (requests, uploads)
        self.down_bytes = 0  # bytes relayed back to it
        self.rate = None  # bytes/s per direction when throttled
        self.half_rtt = 0.0
        self._free_at = {"up_bytes": 0.0, "down_bytes": 0.0}
        threading.Thread(target=self._accept, daemon=True).start()

    # ------------------------------------------------------------------ control
    def cut(self) -> None:
        self.mode = "cut"
        self._drop_all()

    def lossy(self) -> None:
        self.mode = "lossy"
        self._drop_all()

    def restore(self) -> None:
        self.mode = "open"

    def throttle(self, kbit_s: float | None, rtt_ms: float = 0) -> None:
        """A slow link (``None``: full speed again)."""
        self.rate = kbit_s * 1000 / 8 if kbit_s else None
        self.half_rtt = rtt_ms / 2000

    def _wait(self, counter: str, n: int, idle: bool) -> None:
        if self.rate is None:
            return
        if idle:
            time.sleep(self.half_rtt)
        with self._lock:  # the link is shared by every connection in this direction
            start = max(time.monotonic(), self._free_at[counter])
            self._free_at[counter] = start + n / self.rate
            until = self._free_at[counter]
        time.sleep(max(0.0, until - time.monotonic()))

    def close(self) -> None:
        self._stop = True
        self._drop_all()
        self.sock.close()

    # ------------------------------------------------------------------ relay
    def _drop_all(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, set()
        for c in conns:
            _hard_close(c)

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == "cut":
                _hard_close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _hard_close(client)
                continue
            with self._lock:
                self._conns.update((client, upstream))
            lossy = self.mode == "lossy"
            threading.Thread(target=self._pipe, args=(client, upstream, None, "up_bytes"),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, lossy and client,
                                                      "down_bytes"), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, drop_for, counter: str) -> None:
        last = 0.0
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                now = time.monotonic()
                self._wait(counter, len(data), idle=now - last > 0.05)
                last = time.monotonic()
                if drop_for is not None and drop_for is not False:
                    # lossy: the server answered, the phone never hears it
                    _hard_close(drop_for)
                    break
                dst.sendall(data)
                with self._lock:
                    setattr(self, counter, getattr(self, counter) + len(data))
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)


def _hard_close(s: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a dropped mobile connection looks."""
    import struct

    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:  # wakes the relay thread blocked reading this socket, so the close is real
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
