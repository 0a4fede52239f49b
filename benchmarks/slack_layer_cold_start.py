"""Cold-start cost of the Slack reporter's handler wrapper: what importing it adds to a handler's init.

Each run is a fresh interpreter (a cold start) that times, with ``time.perf_counter``, the import the Lambda runtime
makes at init:

* plain: ``import app`` (a small handler module);
* wrapped: ``import slack_reporter.wrapper`` with ``SLACK_REPORTER_HANDLER=app.handler`` (it imports ``app`` too).

The layer is copied without ``__pycache__`` and ``PYTHONDONTWRITEBYTECODE=1`` is set: a layer is read-only in
``/opt``, so on Lambda its modules are compiled on every cold start, and so they are here. The two variants alternate
run by run; the reported cost is the median of wrapped minus the median of plain (target: <= 5 ms). A bare
interpreter has loaded less than the Lambda runtime's bootstrap has, so this is an upper bound.

Also printed, for information: what the first report costs (the reporting modules, json, urllib, logging; and boto3
to read the webhook), paid once per container on its first error, never at init.

Usage (from the repo root)::

    .venv/bin/python benchmarks/slack_layer_cold_start.py [--runs 31]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_PYTHON = REPO_ROOT / "constructs_lib" / "workloads" / "slack" / "runtime" / "reporter_layer" / "python"
TARGET_MS = 5.0
APP = """\
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""
TIMED_IMPORT = "import time\nt0 = time.perf_counter()\nimport {module}\nprint((time.perf_counter() - t0) * 1000)\n"
FIRST_REPORT = (
    "import slack_reporter.wrapper\nimport time\nt0 = time.perf_counter()\n"
    "import slack_reporter.reporting\nt1 = time.perf_counter()\n"
    "try:\n    import boto3\nexcept ImportError:\n    pass\nt2 = time.perf_counter()\n"
    "print((t1 - t0) * 1000, (t2 - t1) * 1000)\n"
)


def run(code: str, environment: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, started in the function's folder (as Lambda starts in /var/task)."""
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        env=environment,
        cwd=environment["LAMBDA_TASK_ROOT"],
        capture_output=True,
        text=True,
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=31, help="cold starts per variant (default 31)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="slack-layer-bench-") as scratch:
        root = Path(scratch)
        layer = root / "opt" / "python"
        shutil.copytree(LAYER_PYTHON, layer, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        task = root / "task"
        task.mkdir()
        (task / "app.py").write_text(APP)
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(task), str(layer)]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "SLACK_REPORTER_HANDLER": "app.handler",
            "LAMBDA_TASK_ROOT": str(task),
        }
        plain: list[float] = []
        wrapped: list[float] = []
        for index in range(arguments.runs * 2):
            if (index % 2 == 0) == (index // 2 % 2 == 0):
                plain.append(float(run(TIMED_IMPORT.format(module="app"), environment).stdout))
            else:
                wrapped.append(float(run(TIMED_IMPORT.format(module="slack_reporter.wrapper"), environment).stdout))
        imported = run("import slack_reporter.wrapper", environment, "-X", "importtime").stderr
        first_report = [[float(value) for value in run(FIRST_REPORT, environment).stdout.split()] for _ in range(5)]

    added = statistics.median(wrapped) - statistics.median(plain)
    print(f"Slack reporter wrapper, cold-start import cost ({arguments.runs} cold starts per variant, median):")
    print(f"  import app (plain handler)             {statistics.median(plain):7.2f} ms")
    print(f"  import slack_reporter.wrapper (+ app)  {statistics.median(wrapped):7.2f} ms")
    print(f"  added by the wrapper                   {added:7.2f} ms   (target <= {TARGET_MS:g} ms)")
    modules = [line.rsplit("|", 1)[-1].strip() for line in imported.splitlines() if line.startswith("import time:")]
    new = modules[modules.index("site") + 1 :] if "site" in modules else modules
    print(f"  modules the wrapped init imports: {', '.join(new)}")
    print("First report in a container (not at init; once):")
    print(f"  reporting modules + json, urllib, logging  {statistics.median(r[0] for r in first_report):7.2f} ms")
    print(f"  boto3 (to read the webhook)                {statistics.median(r[1] for r in first_report):7.2f} ms")
    return 0 if added <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
