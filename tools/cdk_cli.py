"""The pinned CDK CLI of this repository (node_modules/.bin/cdk) and the environment `make synth` gives it."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
VENV_BIN = REPO_ROOT / ".venv" / "bin"


def cli_env() -> dict[str, str]:
    """The environment `make synth` gives the pinned CLI: CloudFormation template validation on, no IMDS look-up,
    the project's virtualenv first on PATH (cdk.json runs ``python3 app.py``)."""
    env = dict(os.environ)
    env.pop("CDK_VALIDATION", None)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    return env
