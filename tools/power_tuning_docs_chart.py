"""The documentation's power tuning chart: x86_64 and arm64 compared in one run, over the reference's 46 "ALL" values.

    python -m tools.power_tuning_docs_chart --out docs/images/power-tuning-architectures.svg

A synthetic function (a fixed 12 ms, and 900 ms of CPU work at 128 MB that shrinks with memory up to one vCPU at
1769 MB; arm64 takes 85% of x86_64's CPU time) answers with REPORT lines, seeded noise of +-5% and one cold start
per value; the runtime's own analysis (``tuning.value_stats`` and ``tuning.analyse``, as the Finalizer runs them)
makes the output, and the chart module draws it. tests/unit/workloads/test_power_tuning_chart.py checks that the
committed picture is what this renders.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from constructs_lib.workloads.power_tuning.chart import read_tuning, render_svg
from constructs_lib.workloads.power_tuning.runtime import tuning

OUT = Path("docs/images/power-tuning-architectures.svg")
NUM = 10


def duration_ms(memory: int, architecture: str) -> float:
    cpu = 900.0 * 128 / min(memory, 1769) * (0.85 if architecture == "arm64" else 1.0)
    return 12.0 + cpu


def report(memory: int, architecture: str, index: int, rng: random.Random) -> str:
    duration = duration_ms(memory, architecture) * (1 + rng.uniform(-0.05, 0.05))
    init = 180.0 if index == 0 else None
    line = (
        f"REPORT RequestId: r\tDuration: {duration:.2f} ms\tBilled Duration: {math.ceil(duration + (init or 0))} ms"
        f"\tMemory Size: {memory} MB\tMax Memory Used: 70 MB"
    )
    return line + (f"\tInit Duration: {init:.2f} ms" if init else "") + "\t\n"


def output() -> dict[str, Any]:
    """The tuning output of the two-architecture run."""
    config = tuning.parse_input(
        {
            "lambdaARN": "arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
            "num": NUM,
            "powerValues": "ALL",
            "architectures": ["x86_64", "arm64"],
            "strategy": "cost",
        }
    )
    rng = random.Random("power-tuning-docs")
    stats = [
        tuning.value_stats(
            memory,
            [tuning.parse_report(report(memory, architecture, index, rng)) for index in range(NUM)],
            discard=config.discard,
            architecture=architecture,
            prices=config.prices(),
        ).to_json()
        for architecture in ("x86_64", "arm64")
        for memory in config.power_values
    ]
    return tuning.analyse(
        stats, strategy=config.strategy, balanced_weight=config.balanced_weight, prices=config.prices(), config=config
    )


def svg() -> str:
    return render_svg(read_tuning(output()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.power_tuning_docs_chart", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    arguments = parser.parse_args(argv)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(svg(), encoding="utf-8")
    print(f"wrote {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
