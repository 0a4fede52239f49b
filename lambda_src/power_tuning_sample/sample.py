"""A function to tune: its work runs faster with more memory, but less than in proportion.

Lambda gives a function CPU in proportion to its memory; code that is partly CPU-bound gets faster with more memory,
though not twice as fast for twice the memory. This sample stands in for such code: it takes
``WORK_MS * sqrt(128 / memory)`` milliseconds (the memory read from ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``), so with the
default 300 ms: 300 ms at 128 MB, 212 ms at 256 MB, 150 ms at 512 MB. Then 128 MB is the cheapest, 512 MB the
fastest, and 256 MB the balanced choice.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

BASE_MEMORY = 128


def work_ms(memory_mb: int, base_ms: float) -> float:
    """How long the simulated work takes at ``memory_mb``."""
    return base_ms * math.sqrt(BASE_MEMORY / memory_mb)


def handler(event: Any, context: Any) -> dict[str, Any]:
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(BASE_MEMORY)))
    took = work_ms(memory, float(os.environ.get("WORK_MS", "300")))
    time.sleep(took / 1000)
    return {"memory": memory, "workMs": round(took, 1), "echo": event}
