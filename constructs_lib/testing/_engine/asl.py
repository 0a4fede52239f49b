"""Amazon States Language checks of synthesized state machines, with the real ``asl-validator`` (npm).

cfn-lint does not check a ``DefinitionString`` built with ``Fn::Join`` (every CDK state machine with a token in
it); this module resolves the tokens to placeholder values of the right shape and runs asl-validator on the result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_REGION = "us-east-1"

_ARN_SERVICES = {
    "AWS::Lambda::Function": ("lambda", "function:{}"),
    "AWS::SQS::Queue": ("sqs", "{}"),
    "AWS::SNS::Topic": ("sns", "{}"),
    "AWS::Events::EventBus": ("events", "event-bus/{}"),
    "AWS::S3::Bucket": ("s3", "{}"),
    "AWS::StepFunctions::StateMachine": ("states", "stateMachine:{}"),
    "AWS::DynamoDB::Table": ("dynamodb", "table/{}"),
}


class AslValidationError(AssertionError):
    """A state machine definition is not valid Amazon States Language."""


def _arn(resource_type: str, logical_id: str) -> str:
    service, resource = _ARN_SERVICES.get(resource_type, ("unknown", "{}"))
    region = "" if service == "s3" else PLACEHOLDER_REGION
    account = "" if service == "s3" else PLACEHOLDER_ACCOUNT
    return f"arn:aws:{service}:{region}:{account}:{resource.format(logical_id.lower())}"


def _resolve(value: Any, resources: Mapping[str, Any]) -> Any:  # noqa: PLR0911 - one case per token kind
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_resolve(v, resources) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_resolve(p, resources)) for p in parts)
    if "Ref" in value:
        name = value["Ref"]
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": PLACEHOLDER_REGION,
            "AWS::AccountId": PLACEHOLDER_ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        resource_type = resources.get(name, {}).get("Type", "")
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.{PLACEHOLDER_REGION}.amazonaws.com/{PLACEHOLDER_ACCOUNT}/{name.lower()}"
        if resource_type in ("AWS::SNS::Topic", "AWS::StepFunctions::StateMachine"):
            return _arn(resource_type, name)
        return name.lower()
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        resource_type = resources.get(logical_id, {}).get("Type", "")
        if attribute == "Arn":
            return _arn(resource_type, logical_id)
        return f"{logical_id.lower()}-{attribute.lower()}"
    return {k: _resolve(v, resources) for k, v in value.items()}


def state_machine_definitions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state machine's definition in a CloudFormation template, tokens resolved to placeholders."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    definitions: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::StepFunctions::StateMachine":
            continue
        properties = resource.get("Properties", {})
        raw = properties.get("DefinitionString") or properties.get("Definition")
        text = _resolve(raw, resources)
        definitions[logical_id] = json.loads(text) if isinstance(text, str) else text
    return definitions


def _validator() -> list[str]:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "node_modules" / ".bin" / "asl-validator"
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("asl-validator")
    if found:
        return [found]
    raise FileNotFoundError("asl-validator not found: `npm install asl-validator@4.0.0` (make test installs it)")


def validate_definition(definition: Mapping[str, Any], *, name: str = "state machine") -> None:
    """Run asl-validator on a definition; raise AslValidationError with its findings if it is not valid."""
    result = subprocess.run(
        [*_validator(), "--json-definition", json.dumps(definition)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if result.returncode != 0:
        raise AslValidationError(f"{name} is not valid Amazon States Language:\n{result.stdout}{result.stderr}")
