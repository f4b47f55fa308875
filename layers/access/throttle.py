"""Login throttling: a temporary lock-out after repeated failures, per user name and per client address.

Counted in the process (each app worker keeps its own counts; behind several workers an attacker gets at most
``workers x limit`` tries per window, still a lock-out). A locked login is refused *before* the password is
checked, so a flood of wrong passwords cannot keep the CPU busy with password hashing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """``limit`` failures within ``window_s`` lock a user name (or an address, at ``address_limit``) for
    ``lockout_s`` seconds."""

    limit: int = 5
    address_limit: int = 20
    window_s: float = 900.0
    lockout_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _fails: dict[str, deque] = field(default_factory=dict, repr=False)
    _locked: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"u:{username.strip().lower()}", self.limit), (f"a:{address}", self.address_limit)]

    def locked_for(self, username: str, address: str) -> float:
        """Seconds until the user name or the address may try again (0 = may try now)."""
        now = self.clock()
        with self._lock:
            left = 0.0
            for key, _ in self._keys(username, address):
                until = self._locked.get(key, 0.0)
                if until > now:
                    left = max(left, until - now)
                elif key in self._locked:
                    del self._locked[key]
            return left

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key, limit in self._keys(username, address):
                q = self._fails.setdefault(key, deque())
                q.append(now)
                while q and q[0] < now - self.window_s:
                    q.popleft()
                if len(q) >= limit:
                    self._locked[key] = now + self.lockout_s
                    q.clear()
            if len(self._fails) > 100_000:  # bound the memory an address sweep could take
                self._fails.clear()

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._fails.pop(f"u:{username.strip().lower()}", None)


__all__ = ["LoginThrottle"]
