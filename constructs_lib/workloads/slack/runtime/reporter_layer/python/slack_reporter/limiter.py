"""A per-container rate limit: Slack accepts about one message per second on a webhook."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """At most one message per ``min_interval`` seconds; what is held back is counted, and the count travels with
    the next message that goes out."""

    def __init__(self, min_interval: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.min_interval = max(0.0, min_interval)
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()
        self.suppressed = 0
        """Messages held back since the last one that went out."""

    def acquire(self) -> int | None:
        """None if this message must be held back (it is counted); otherwise how many were held back before it
        (the counter starts again from zero)."""
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < self.min_interval:
                self.suppressed += 1
                return None
            self._last = now
            carried, self.suppressed = self.suppressed, 0
            return carried

    def delay(self) -> float:
        """Seconds until a message may go out (0 when it may go now)."""
        with self._lock:
            if self._last is None:
                return 0.0
            return max(0.0, self._last + self.min_interval - self._clock())

    def restore(self, carried: int) -> None:
        """The message that carried ``carried`` was not delivered: count them again for the next one."""
        with self._lock:
            self.suppressed += carried
