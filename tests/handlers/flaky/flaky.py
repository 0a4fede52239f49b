"""The fault-injection worker: fails on a seeded random share of its invocations.

Whether attempt ``n`` of event ``id`` fails depends only on (seed, id, n), so a run is the same whatever order the
kit's threads run in.
"""

from __future__ import annotations

import os
import random
import threading
from typing import Any

RATE = float(os.environ.get("FAULT_RATE", "0.3"))
SEED = os.environ.get("FAULT_SEED", "0")
_ATTEMPTS: dict[str, int] = {}
_LOCK = threading.Lock()


class InjectedFaultError(RuntimeError):
    """The injected failure: a Retry or a destination sees this name."""


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    event_id = str(event["id"])
    with _LOCK:
        _ATTEMPTS[event_id] = attempt = _ATTEMPTS.get(event_id, 0) + 1
    if random.Random(f"{SEED}:{event_id}:{attempt}").random() < RATE:
        raise InjectedFaultError(f"injected fault: event {event_id}, attempt {attempt}")
    return {"id": event_id, "attempt": attempt}
