"""Record what the reference (aws-lambda-power-tuning) chooses on synthetic REPORT lines, for the comparison test.

    python -m tools.power_tuning_reference <checkout of aws-lambda-power-tuning> \\
        --out tests/handler/data/power_tuning_reference.json

makes the cases (synthetic REPORT lines: memory sizes, strategies, cold starts, SnapStart restores, trimming), and
for each asks the reference's own functions, run by ``node`` from the checkout's ``lambda/`` folder: its
``utils.js`` for the durations, trimmed means and prices (as its executor combines them) and its analyzer's handler
for the choice. It writes the reference's answers (and a digest of the cases) as JSON: the test
(tests/handler/test_power_tuning_reference.py) makes the same cases, runs their REPORT lines through this
library's analysis and compares. Nothing of the reference is copied: the checkout is read at run time, and the AWS
SDK modules it requires are stubbed (no call is made). Needs Node.js; the cases are deterministic (seeded).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE = "aws-lambda-power-tuning 4.4.0"
VALUES = (128, 256, 512, 1024, 1536, 2048, 3008)


@dataclass(frozen=True)
class Model:
    """A synthetic function: its duration at a memory size, its cold start, its SnapStart restore."""

    name: str
    duration: Callable[[int], float]
    init_ms: Callable[[int], float] | None = None
    restore_ms: float | None = None
    billed_restore_ms: float | None = None


def _cpu_bound(work_ms: float) -> Callable[[int], float]:
    """Proportional to CPU share up to one vCPU (1769 MB), flat after."""
    return lambda memory: work_ms * 128 / min(memory, 1769)


MODELS = (
    Model("cpu-bound", _cpu_bound(800.0)),
    Model("io-bound", lambda memory: 120.0 + 2000.0 / memory),
    Model("short", lambda memory: 1.2 + 60.0 / memory),
    Model("mixed", lambda memory: 40.0 + 30_000.0 / memory),
    Model("cold-heavy", lambda memory: 15.0 + 500.0 / memory, init_ms=lambda memory: 300.0 + 150_000.0 / memory),
    Model("snapstart", lambda memory: 20.0 + 4_000.0 / memory, restore_ms=450.0, billed_restore_ms=180.0),
)


def report_line(duration: float, *, memory: int, init: float | None, restore: tuple[float, float] | None) -> str:
    """A REPORT line as the Lambda runtime writes it (text log format); Billed Duration includes the INIT phase."""
    billed = math.ceil(duration + (init or 0.0))
    line = (
        f"REPORT RequestId: 00000000-0000-0000-0000-000000000000\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory} MB\tMax Memory Used: 64 MB"
    )
    if init is not None:
        line += f"\tInit Duration: {init:.2f} ms"
    if restore is not None:
        line += f"\tRestore Duration: {restore[0]:.2f} ms\tBilled Restore Duration: {math.ceil(restore[1])} ms"
    return line + "\t\n"


def tails(model: Model, memory: int, num: int, *, cold_every: bool, rng: random.Random) -> list[str]:
    """``num`` log tails: the first invocation a cold start (every one with ``cold_every``), noise of +-8%."""
    found = []
    for index in range(num):
        cold = cold_every or index == 0
        noise = 1 + rng.uniform(-0.08, 0.08)
        init = model.init_ms(memory) * noise if model.init_ms and cold else None
        restore = (
            (model.restore_ms * noise, (model.billed_restore_ms or 0.0) * noise)
            if model.restore_ms is not None and cold
            else None
        )
        if init is None and restore is None and cold and model.restore_ms is None:
            init = 150.0 * noise  # a plain cold start
        found.append(
            f"START RequestId: r Version: {index + 1}\nEND RequestId: r\n"
            + report_line(model.duration(memory) * noise, memory=memory, init=init, restore=restore)
        )
    return found


def cases() -> list[dict[str, Any]]:
    """Every model under each strategy, trimming and cold-start setting (seeded: the same cases every time)."""
    found: list[dict[str, Any]] = []
    settings: Sequence[dict[str, Any]] = (
        {"strategy": "cost"},
        {"strategy": "speed"},
        {"strategy": "balanced", "balancedWeight": 0.5},
        {"strategy": "balanced", "balancedWeight": 0.2},
        {"strategy": "balanced", "balancedWeight": 0.8},
        {"strategy": "cost", "discardTopBottom": 0.0},
        {"strategy": "speed", "discardTopBottom": 0.4},
        {"strategy": "speed", "onlyColdStarts": True},
        {"strategy": "balanced", "balancedWeight": 0.5, "onlyColdStarts": True},
        {"strategy": "cost", "onlyColdStarts": True},
    )
    for model in MODELS:
        for number, setting in enumerate(settings):
            rng = random.Random(f"{model.name}/{number}")
            num = 10
            cold_every = bool(setting.get("onlyColdStarts"))
            found.append(
                {
                    "id": f"{model.name}/{number}",
                    "input": {"num": num, "powerValues": list(VALUES), **setting},
                    "tails": {
                        str(memory): tails(model, memory, num, cold_every=cold_every, rng=rng) for memory in VALUES
                    },
                }
            )
    return found


def cases_digest(found: list[dict[str, Any]]) -> str:
    """What the answers were computed on: a change of the cases makes the recorded answers stale."""
    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()


DRIVER = r"""
const Module = require('module');
const path = require('path');
const stub = new Proxy({}, {get: (_, name) => name === '__esModule' ? false : function () {}});
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request.startsWith('@aws-sdk/')) return stub;
  return load.apply(this, arguments);
};
process.env.baseCosts = JSON.stringify({x86_64: {default: 2.1e-9}, arm64: {default: 1.7e-9}});
process.env.sfCosts = JSON.stringify({default: 0.000025});
process.env.minRAM = '128';
process.env.AWS_REGION = 'us-east-1';
process.env.visualizationURL = 'https://lambda-power-tuning.show/';
process.env.defaultPowerValues = '128,256,512,1024,1536,3008';
const dir = process.argv[2];
const utils = require(path.join(dir, 'utils.js'));
const analyzer = require(path.join(dir, 'analyzer.js'));
console.log = () => {};
const cases = JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'));
const out = {};
(async () => {
  for (const c of cases) {
    const input = c.input;
    const discard = input.onlyColdStarts ? 0 : (input.discardTopBottom === undefined ? 0.2 : input.discardTopBottom);
    const baseCost = utils.lambdaBaseCost('us-east-1', 'x86_64');
    const stats = input.powerValues.map((value) => {
      const results = c.tails[String(value)].map((tail) => ({LogResult: Buffer.from(tail).toString('base64')}));
      const durations = utils.parseLogAndExtractDurations(results);
      const averageDuration = utils.computeAverageDuration(durations, discard);
      const billed = utils.parseLogAndExtractBilledDurations(results);
      const averageBilled = utils.computeAverageDuration(billed, discard);
      return {
        value: value,
        averagePrice: utils.computePrice(baseCost, 128, value, averageBilled),
        averageDuration: averageDuration,
        totalCost: utils.computeTotalCost(baseCost, 128, value, billed),
      };
    });
    const result = await analyzer.handler({...input, stats: stats, includeOutputResults: true}, {});
    out[c.id] = {power: result.power, cost: result.cost, duration: result.duration};
  }
  process.stdout.write(JSON.stringify(out));
})().catch((error) => { process.stderr.write(String(error.stack)); process.exit(1); });
"""


def run_reference(checkout: Path, found: list[dict[str, Any]]) -> dict[str, Any]:
    lambda_dir = (checkout / "lambda").resolve()
    if not (lambda_dir / "utils.js").is_file():
        raise SystemExit(f"{checkout} has no lambda/utils.js: give a checkout of aws-lambda-power-tuning")
    with tempfile.TemporaryDirectory() as work:
        driver, data = Path(work) / "driver.js", Path(work) / "cases.json"
        driver.write_text(DRIVER, encoding="utf-8")
        data.write_text(json.dumps(found), encoding="utf-8")
        done = subprocess.run(
            ["node", str(driver), str(lambda_dir), str(data)], capture_output=True, text=True, check=False
        )
    if done.returncode:
        raise SystemExit(f"node failed: {done.stderr}")
    answers: dict[str, Any] = json.loads(done.stdout)
    return answers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.power_tuning_reference", description=__doc__.split("\n")[0])
    parser.add_argument("checkout", type=Path, help="a checkout of aws-lambda-power-tuning (its lambda/ is read)")
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(argv)
    found = cases()
    answers = run_reference(arguments.checkout, found)
    document = {
        "reference": REFERENCE,
        "made_by": "python -m tools.power_tuning_reference <checkout> --out <this file>",
        "cases_sha256": cases_digest(found),
        "answers": {case["id"]: answers[case["id"]] for case in found},
    }
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(found)} cases to {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
