"""Independent scanners on every template the pinned CDK CLI synthesizes (issue 9).

- cfn-lint and checkov (pinned, in .venv-scan) on every template of the CLI's cdk.out/, offline: nothing outside
  `.cfnlintrc.yaml` / `.checkov.yaml`, and every entry of those lists still needed (each scanner runs once, with its
  config file but with the list switched off, so one run shows both).
- Where a checkov skip relies on one of our defaults, a check of that default on every template (and a planted
  counter-example, so that the check can fail).
- IAM: no identity policy grants an action on every resource unless AWS allows nothing narrower
  (constructs_lib.testing.iam; its own tests, on hand-made templates, are in tests/unit/testing/test_iam.py).
- cdk-nag: no acknowledgment without a finding to suppress, and the Security page's "cdk-nag acknowledgments" table
  lists every acknowledged (rule, reason) of the example app with its count, and nothing else.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.testing import identity_policies, state_machine_definitions, wildcard_resource_problems
from tests.conftest import REPO_ROOT

SCAN_BIN = REPO_ROOT / ".venv-scan" / "bin"
CFN_LINT_CONFIG = REPO_ROOT / ".cfnlintrc.yaml"
CHECKOV_CONFIG = REPO_ROOT / ".checkov.yaml"
SCAN_TIMEOUT_S = 300
MIN_REASON_CHARS = 30
Template = Mapping[str, Any]


# ------------------------------------------------------------------------------------------------ running scanners


@dataclass(frozen=True)
class Finding:
    rule: str
    template: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.template} {self.where}: {self.message}"


@dataclass(frozen=True)
class ScanResults:
    cfn_lint: list[Finding]
    checkov: list[Finding]
    checkov_summary: Mapping[str, Any]
    templates: list[Path]


def scanner(name: str) -> Path:
    path = SCAN_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make setup` (it makes .venv-scan from requirements-scan.txt)")
    return path


def scan_env(home: Path) -> dict[str, str]:
    """A small, offline environment: no update check (checkov asks PyPI otherwise), no platform download, caches
    and temporary files under ``home`` (a tmp_path)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "BC_SKIP_MAPPING": "TRUE",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_COLOR": "1",
    }


def finish(name: str, process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        stdout, stderr = process.communicate(timeout=SCAN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"{name} did not finish in {SCAN_TIMEOUT_S} s (offline: does it try the network?)")
    return process.returncode, stdout, stderr


def cfn_lint_findings(returncode: int, stdout: str, stderr: str) -> list[Finding]:
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it could not run.
    assert returncode & 1 == 0, f"cfn-lint did not run (exit {returncode}):\n{stderr[-3000:]}"
    return [
        Finding(
            rule=item["Rule"]["Id"],
            template=Path(item["Filename"]).name,
            where="/".join(str(p) for p in item["Location"].get("Path") or []),
            message=item["Message"],
        )
        for item in json.loads(stdout)
    ]


def checkov_findings(returncode: int, stdout: str, stderr: str) -> tuple[list[Finding], Mapping[str, Any]]:
    assert returncode in (0, 1), f"checkov did not run (exit {returncode}):\n{stderr[-3000:]}"
    reports = json.loads(stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert [r.get("check_type") for r in reports] == ["cloudformation"], stdout[:2000]
    report = reports[0]
    findings = [
        Finding(
            rule=item["check_id"],
            template=Path(item["file_path"]).name,
            where=item["resource"],
            message=item["check_name"],
        )
        for item in report["results"]["failed_checks"]
    ]
    return findings, report["summary"]


@pytest.fixture(scope="module")
def scans(cli_cloud_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> ScanResults:
    """cfn-lint and checkov on the CLI's cdk.out/, both at once, each with its config file but the skip list off."""
    templates = sorted(cli_cloud_assembly.glob("*.template.json"))
    assert templates, f"no template in {cli_cloud_assembly}"
    home = tmp_path_factory.mktemp("scan-home")
    env = scan_env(home)
    common: dict[str, Any] = {"cwd": home, "env": env, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    # `--ignore-checks ""` and `--skip-check ""` replace the config files' lists (an empty id matches nothing): every
    # finding is reported, and the tests below apply the lists, so that one run also shows which entries are needed.
    lint_command = [str(scanner("cfn-lint")), "--config-file", str(CFN_LINT_CONFIG), "--format", "json"]
    lint_command += ["--ignore-checks", "", "--", *map(str, templates)]
    checkov_command = [str(scanner("checkov")), "--config-file", str(CHECKOV_CONFIG), "-d", str(cli_cloud_assembly)]
    checkov_command += ["--skip-check", "", "--output", "json"]
    lint = subprocess.Popen(lint_command, text=True, **common)
    checkov = subprocess.Popen(checkov_command, text=True, **common)
    try:
        lint_result = finish("cfn-lint", lint)
        checkov_result = finish("checkov", checkov)
    finally:
        for process in (lint, checkov):  # the other one, if one of them timed out
            if process.poll() is None:
                process.kill()
                process.wait()
    checkov_failed, checkov_summary = checkov_findings(*checkov_result)
    return ScanResults(cfn_lint_findings(*lint_result), checkov_failed, checkov_summary, templates)


def summary(findings: list[Finding], limit: int = 5) -> str:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_rule[finding.rule].append(finding)
    lines = []
    for rule, items in sorted(by_rule.items()):
        lines.append(f"{rule} x{len(items)}:")
        lines.extend(f"    {item}" for item in items[:limit])
        if len(items) > limit:
            lines.append(f"    ... and {len(items) - limit} more")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ config files


_ENTRY = re.compile(r"^\s+-\s+(?P<id>[A-Z][A-Z0-9_]*)\s+#\s*(?P<reason>\S.*?)\s*$")


def config_entries(path: Path, key: str) -> dict[str, str]:
    """The ``key:`` list of a scanner's YAML config as ``{id: reason}``; every item must be ``- ID  # reason``."""
    entries: dict[str, str] = {}
    inside = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if re.match(rf"^{re.escape(key)}:\s*$", line):
            inside = True
            continue
        if inside and line and not line[0].isspace():
            break  # the next top-level key
        if not inside or not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENTRY.match(line)
        assert match, f"{path.name}:{number}: write each entry as `  - ID  # reason`, got {line!r}"
        assert match["id"] not in entries, f"{path.name}:{number}: {match['id']} is listed twice"
        entries[match["id"]] = match["reason"]
    assert inside, f"{path.name} has no `{key}:` list"
    return entries


@pytest.fixture(scope="module")
def ignored_by_cfn_lint() -> dict[str, str]:
    return config_entries(CFN_LINT_CONFIG, "ignore_checks")


@pytest.fixture(scope="module")
def skipped_by_checkov() -> dict[str, str]:
    return config_entries(CHECKOV_CONFIG, "skip-check")


def test_every_config_entry_has_a_reason_and_the_scanners_read_the_same_list(
    ignored_by_cfn_lint: dict[str, str], skipped_by_checkov: dict[str, str]
) -> None:
    for name, entries in ((CFN_LINT_CONFIG.name, ignored_by_cfn_lint), (CHECKOV_CONFIG.name, skipped_by_checkov)):
        assert entries, f"{name}: empty list"
        short = {rule: reason for rule, reason in entries.items() if len(reason) < MIN_REASON_CHARS}
        assert not short, f"{name}: give each entry a reason a reviewer can check: {short}"
    # The YAML as the scanners load it (PyYAML of .venv-scan) lists exactly the entries read above.
    script = "import json, sys, yaml; print(json.dumps([yaml.safe_load(open(p)) for p in sys.argv[1:]]))"
    result = subprocess.run(
        [str(scanner("python")), "-c", script, str(CFN_LINT_CONFIG), str(CHECKOV_CONFIG)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    cfn_lint_config, checkov_config = json.loads(result.stdout)
    assert cfn_lint_config["ignore_checks"] == list(ignored_by_cfn_lint)
    assert checkov_config["skip-check"] == list(skipped_by_checkov)
    assert checkov_config["skip-download"] is True, "checkov must not fetch anything: skip-download: true"


def test_config_entries_are_read_strictly(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("skip-check:\n  - CKV_AWS_1  # a reason long enough for a reviewer to check\n  - CKV_AWS_2\n")
    with pytest.raises(AssertionError, match="write each entry as"):
        config_entries(config, "skip-check")


# ------------------------------------------------------------------------------------------------ cfn-lint, checkov


def test_cfn_lint_finds_nothing_outside_its_config(scans: ScanResults, ignored_by_cfn_lint: dict[str, str]) -> None:
    unexpected = [f for f in scans.cfn_lint if not any(f.rule.startswith(i) for i in ignored_by_cfn_lint)]
    assert not unexpected, (
        f"cfn-lint on {len(scans.templates)} templates: fix these, or add the rule to {CFN_LINT_CONFIG.name} with "
        f"the reason:\n{summary(unexpected)}"
    )


def test_every_rule_cfn_lint_ignores_still_fires(scans: ScanResults, ignored_by_cfn_lint: dict[str, str]) -> None:
    stale = sorted(i for i in ignored_by_cfn_lint if not any(f.rule.startswith(i) for f in scans.cfn_lint))
    assert not stale, f"{CFN_LINT_CONFIG.name}: no template needs these any more, remove them: {stale}"


def test_checkov_fails_no_check_outside_its_config(scans: ScanResults, skipped_by_checkov: dict[str, str]) -> None:
    resources = sum(len(json.loads(t.read_text())["Resources"]) for t in scans.templates)
    assert scans.checkov_summary["parsing_errors"] == 0, scans.checkov_summary
    assert scans.checkov_summary["resource_count"] == resources, (
        f"checkov saw {scans.checkov_summary['resource_count']} resources, the templates have {resources}"
    )
    unexpected = [f for f in scans.checkov if f.rule not in skipped_by_checkov]
    assert not unexpected, (
        f"checkov on {len(scans.templates)} templates: fix these, or add the check to {CHECKOV_CONFIG.name} with "
        f"the reason (and, if the skip relies on our default, a test of that default here):\n{summary(unexpected)}"
    )


def test_every_check_checkov_skips_still_fails_somewhere(
    scans: ScanResults, skipped_by_checkov: dict[str, str]
) -> None:
    failing = Counter(f.rule for f in scans.checkov)
    stale = sorted(rule for rule in skipped_by_checkov if not failing[rule])
    assert not stale, f"{CHECKOV_CONFIG.name}: every template passes these now, remove them: {stale}"


# ------------------------------------------------------------------------------------------------ IAM


def test_no_identity_policy_grants_an_unlisted_action_on_every_resource(
    cli_templates: dict[str, dict[str, Any]],
) -> None:
    walked = {name: len(list(identity_policies(template))) for name, template in cli_templates.items()}
    assert len(walked) == 7, walked  # one per example stack
    assert all(walked.values()), walked
    problems = [
        f"{name}: {p}" for name, template in cli_templates.items() for p in wildcard_resource_problems(template)
    ]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------------ our defaults
# Each function returns the problems in one template; the tests run it on every CLI template (no problem) and on
# a template with a planted counter-example (the problem is found).


def _resources(template: Template, kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == kind:
            yield logical_id, resource.get("Properties") or {}


def _refs(value: Any) -> set[str]:
    """Logical ids that ``value`` refers to (Ref, Fn::GetAtt, ${Logical.Attr} in Fn::Sub)."""
    if isinstance(value, list):
        return {ref for item in value for ref in _refs(item)}
    if not isinstance(value, Mapping):
        return set()
    if isinstance(value.get("Ref"), str):
        return {value["Ref"]}
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return {target[0] if isinstance(target, list) else str(target).split(".")[0]}
    if "Fn::Sub" in value:
        text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
        return {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text))}
    return {ref for item in value.values() for ref in _refs(item)}


def unencrypted_queues(template: Template) -> list[str]:
    """CKV_AWS_27 is skipped: every queue must be encrypted at rest, with SSE-SQS or a KMS key."""
    return [
        f"{logical_id}: set SqsManagedSseEnabled: true (SSE-SQS) or KmsMasterKeyId"
        for logical_id, properties in _resources(template, "AWS::SQS::Queue")
        if properties.get("SqsManagedSseEnabled") is not True and not properties.get("KmsMasterKeyId")
    ]


def unencrypted_tables(template: Template) -> list[str]:
    """CKV_AWS_119 is skipped: every table must be encrypted at rest with KMS (SSEEnabled)."""
    return [
        f"{logical_id}: set SSESpecification.SSEEnabled: true"
        for logical_id, properties in _resources(template, "AWS::DynamoDB::Table")
        if (properties.get("SSESpecification") or {}).get("SSEEnabled") is not True
    ]


def buckets_without_access_logs(template: Template) -> list[str]:
    """CKV_AWS_18 is skipped: a bucket without server access logs must be another bucket's access-log bucket,
    and (CKV_AWS_21, fixed) versioned like every bucket."""
    buckets = dict(_resources(template, "AWS::S3::Bucket"))
    log_buckets = {
        ref
        for properties in buckets.values()
        for ref in _refs((properties.get("LoggingConfiguration") or {}).get("DestinationBucketName"))
    }
    problems = [
        f"{logical_id}: no LoggingConfiguration, and no bucket sends its access logs here"
        for logical_id, properties in buckets.items()
        if not properties.get("LoggingConfiguration") and logical_id not in log_buckets
    ]
    problems += [
        f"{logical_id}: an access-log bucket without versioning"
        for logical_id in sorted(log_buckets & set(buckets))
        if (buckets[logical_id].get("VersioningConfiguration") or {}).get("Status") != "Enabled"
    ]
    return problems


# Services that invoke a function asynchronously (Lambda's "Invoking functions asynchronously" list, the ones a
# template grants with AWS::Lambda::Permission).
ASYNC_INVOKERS = frozenset(
    f"{service}.amazonaws.com" for service in ("sns", "s3", "events", "logs", "ses", "iot", "codecommit", "config")
)


def async_functions_without_failure_handling(template: Template) -> list[str]:
    """CKV_AWS_116 is skipped: every function something invokes asynchronously must have an on-failure destination
    (EventInvokeConfig) or a DLQ, so that no event is lost. Synchronous invokers (Step Functions tasks, S3 Batch,
    SQS pollers) report failures to their caller instead."""
    functions = {logical_id for logical_id, _ in _resources(template, "AWS::Lambda::Function")}
    invoked_by: dict[str, str] = {}

    def invoked(value: Any, by: str) -> None:
        for ref in _refs(value) & functions:
            invoked_by.setdefault(ref, by)

    for logical_id, properties in _resources(template, "AWS::Lambda::Permission"):
        if properties.get("Principal") in ASYNC_INVOKERS:
            invoked(properties.get("FunctionName"), f"{properties['Principal']} ({logical_id})")
    for logical_id, properties in _resources(template, "AWS::SNS::Subscription"):
        if properties.get("Protocol") == "lambda":
            invoked(properties.get("Endpoint"), f"the SNS subscription {logical_id}")
    for logical_id, properties in _resources(template, "AWS::Events::Rule"):
        for target in properties.get("Targets") or []:
            invoked(target.get("Arn"), f"the EventBridge rule {logical_id}")
    for logical_id, properties in _resources(template, "AWS::S3::Bucket"):
        for config in (properties.get("NotificationConfiguration") or {}).get("LambdaConfigurations") or []:
            invoked(config.get("Function"), f"the S3 notifications of {logical_id}")
    handled: set[str] = set()
    for logical_id, properties in _resources(template, "AWS::Lambda::EventInvokeConfig"):
        destinations = properties.get("DestinationConfig") or {}
        for side in ("OnSuccess", "OnFailure"):
            invoked((destinations.get(side) or {}).get("Destination"), f"the Lambda destination {logical_id}")
        if (destinations.get("OnFailure") or {}).get("Destination"):
            handled |= _refs(properties.get("FunctionName"))
    by_lower_id = {logical_id.lower(): logical_id for logical_id in functions}
    for machine, definition in state_machine_definitions(template).items():
        for state in _states(definition):
            parameters = state.get("Parameters") or {}
            if str(state.get("Resource", "")).endswith(":states:::lambda:invoke") and (
                parameters.get("InvocationType") == "Event"
            ):
                name = re.search(r"function:([a-z0-9]+)", str(parameters.get("FunctionName", "")))
                if name and name[1] in by_lower_id:
                    invoked_by.setdefault(by_lower_id[name[1]], f"the state machine {machine} (InvocationType Event)")
    for logical_id, properties in _resources(template, "AWS::Lambda::Function"):
        if (properties.get("DeadLetterConfig") or {}).get("TargetArn"):
            handled.add(logical_id)
    return [
        f"{logical_id}: invoked asynchronously by {by}, but has no on-failure destination and no DLQ"
        for logical_id, by in sorted(invoked_by.items())
        if logical_id not in handled
    ]


def _states(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for state in (definition.get("States") or {}).values():
        yield state
        for branch in state.get("Branches") or []:
            yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), Mapping):
                yield from _states(state[key])


SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|WEBHOOK", re.IGNORECASE)
REFERENCE_NAME = re.compile(r"_(ARN|NAME|FIELD)$", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"hooks\.slack\.com/|://[^/\s:@]+:[^/\s@]+@|\bAKIA[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY"
)


def secrets_in_environment(template: Template) -> list[str]:
    """CKV_AWS_173 is skipped: environment variables hold configuration and where a secret is (its ARN or name),
    never a secret's value."""
    problems = []
    for logical_id, properties in _resources(template, "AWS::Lambda::Function"):
        for name, value in ((properties.get("Environment") or {}).get("Variables") or {}).items():
            if SECRET_NAME.search(name) and not REFERENCE_NAME.search(name):
                problems.append(f"{logical_id}: {name} looks like a secret; pass its ARN or name (NAME_ARN)")
            if isinstance(value, str) and SECRET_VALUE.search(value):
                problems.append(f"{logical_id}: {name} holds a secret value; keep it in Secrets Manager")
    return problems


DEFAULT_CHECKS: dict[str, Callable[[Template], list[str]]] = {
    "CKV_AWS_27": unencrypted_queues,
    "CKV_AWS_119": unencrypted_tables,
    "CKV_AWS_18": buckets_without_access_logs,
    "CKV_AWS_116": async_functions_without_failure_handling,
    "CKV_AWS_173": secrets_in_environment,
}


@pytest.mark.parametrize("check_id", sorted(DEFAULT_CHECKS))
def test_every_template_keeps_the_default_a_skip_relies_on(
    cli_templates: dict[str, dict[str, Any]], skipped_by_checkov: dict[str, str], check_id: str
) -> None:
    assert check_id in skipped_by_checkov, f"{check_id} is checked by checkov again: remove its default check here"
    problems = {name: DEFAULT_CHECKS[check_id](template) for name, template in cli_templates.items()}
    assert len(problems) == 7  # one per example stack
    assert not any(problems.values()), f"{check_id} is skipped on the strength of this default: {problems}"


def test_each_skip_that_relies_on_a_default_has_its_check(skipped_by_checkov: dict[str, str]) -> None:
    relies_on_default = {rule for rule, reason in skipped_by_checkov.items() if "tested" in reason}
    assert relies_on_default == set(DEFAULT_CHECKS)


def _planted(template: Template, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copied: dict[str, Any] = copy.deepcopy(dict(template))
    change(copied["Resources"])
    return copied


def _properties(resources: dict[str, Any], kind: str, where: Callable[[str, dict[str, Any]], bool]) -> dict[str, Any]:
    """The properties of the first resource of ``kind`` for which ``where(logical_id, properties)``."""
    properties: dict[str, Any] = next(
        r["Properties"]
        for logical_id, r in resources.items()
        if r["Type"] == kind and where(logical_id, r["Properties"])
    )
    return properties


def _any(logical_id: str, properties: dict[str, Any]) -> bool:
    return True


def _drop_queue_encryption(resources: dict[str, Any]) -> None:
    _properties(resources, "AWS::SQS::Queue", _any).pop("SqsManagedSseEnabled")


def _drop_table_encryption(resources: dict[str, Any]) -> None:
    _properties(resources, "AWS::DynamoDB::Table", _any).pop("SSESpecification")


def _drop_access_logs(resources: dict[str, Any]) -> None:
    _properties(resources, "AWS::S3::Bucket", lambda _, p: "LoggingConfiguration" in p).pop("LoggingConfiguration")


def _drop_log_bucket_versioning(resources: dict[str, Any]) -> None:
    logged_to = {
        ref
        for r in resources.values()
        if r["Type"] == "AWS::S3::Bucket"
        for ref in _refs((r["Properties"].get("LoggingConfiguration") or {}).get("DestinationBucketName"))
    }
    _properties(resources, "AWS::S3::Bucket", lambda logical_id, _: logical_id in logged_to).pop(
        "VersioningConfiguration"
    )


def _drop_failure_destinations(resources: dict[str, Any]) -> None:
    for logical_id in [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]:
        del resources[logical_id]


def _event_invoke_from_a_state_machine(resources: dict[str, Any]) -> None:
    """A state machine that invokes a function with InvocationType Event (a function with no EventInvokeConfig)."""
    target = next(k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function")
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    task["Parameters"] = {"FunctionName": "TARGET", "InvocationType": "Event", "Payload.$": "$"}
    before, after = json.dumps({"StartAt": "Notify", "States": {"Notify": task}}).split('"TARGET"')
    resources["Planted"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": {"Fn::Join": ["", [before + '"', {"Fn::GetAtt": [target, "Arn"]}, '"' + after]]}
        },
    }


def _webhook_url_in_environment(resources: dict[str, Any]) -> None:
    function = _properties(resources, "AWS::Lambda::Function", _any)
    function.setdefault("Environment", {}).setdefault("Variables", {})["SLACK_WEBHOOK_URL"] = (
        "https://hooks.slack.com/services/T0/B0/x"
    )


PLANTED: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    ("CKV_AWS_27", "DestinedLambda", _drop_queue_encryption, "set SqsManagedSseEnabled"),
    ("CKV_AWS_119", "DefectDetection", _drop_table_encryption, "set SSESpecification.SSEEnabled"),
    ("CKV_AWS_18", "S3BatchSentiment", _drop_access_logs, "no LoggingConfiguration"),
    ("CKV_AWS_18", "S3BatchSentiment", _drop_log_bucket_versioning, "access-log bucket without versioning"),
    ("CKV_AWS_116", "DestinedLambda", _drop_failure_destinations, "invoked asynchronously by sns.amazonaws.com"),
    ("CKV_AWS_116", "PowerTuning", _event_invoke_from_a_state_machine, "by the state machine Planted"),
    ("CKV_AWS_173", "DestinedLambda", _webhook_url_in_environment, "SLACK_WEBHOOK_URL looks like a secret"),
    ("CKV_AWS_173", "DestinedLambda", _webhook_url_in_environment, "SLACK_WEBHOOK_URL holds a secret value"),
]


@pytest.mark.parametrize(("check_id", "stack", "change", "expected"), PLANTED)
def test_each_default_check_finds_a_planted_counter_example(
    cli_templates: dict[str, dict[str, Any]],
    check_id: str,
    stack: str,
    change: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    problems = DEFAULT_CHECKS[check_id](_planted(cli_templates[stack], change))
    assert any(expected in problem for problem in problems), problems


# ------------------------------------------------------------------------------------------------ cdk-nag


@dataclass(frozen=True)
class Acknowledged:
    """A finding that cdk-nag reported and an acknowledgment suppressed, as the CLI's validation report says."""

    rule: str
    reason: str
    construct: str
    acknowledged_at: str


def acknowledged_findings(cloud_assembly: Path) -> list[Acknowledged]:
    report = json.loads((cloud_assembly / "validation-report.json").read_text())
    plugins = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert len(plugins) == 1, [p["pluginName"] for p in report["pluginReports"]]
    return [
        Acknowledged(v["ruleName"], v["reason"], construct["constructPath"], v["acknowledgedAt"])
        for v in plugins[0]["suppressedViolations"]
        for construct in v["violatingConstructs"]
    ]


def declared_acknowledgments(cloud_assembly: Path) -> list[tuple[str, str, str]]:
    """(construct path, acknowledged id, reason) of every acknowledgment the app declares."""
    declared = []
    for path in sorted(cloud_assembly.glob("*.metadata.json")):
        for construct, entries in json.loads(path.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    declared += [(construct.lstrip("/"), ack_id, reason) for ack_id, reason in entry["data"].items()]
    return declared


def unused_acknowledgments(cloud_assembly: Path) -> list[str]:
    """Acknowledgments declared in the assembly's metadata that suppress no finding of its validation report."""
    report = json.loads((cloud_assembly / "validation-report.json").read_text())
    used = {
        (v["acknowledgedAt"], v["acknowledgedId"])
        for plugin in report["pluginReports"]
        for v in plugin.get("suppressedViolations", [])
    }
    declared = declared_acknowledgments(cloud_assembly)
    assert declared, f"no acknowledgment in {cloud_assembly}: is cdk-nag on?"
    return [f"{path}: {ack_id}" for path, ack_id, _ in declared if (path, ack_id) not in used]


def test_no_acknowledgment_of_the_example_app_without_a_finding_to_suppress(cli_cloud_assembly: Path) -> None:
    unused = unused_acknowledgments(cli_cloud_assembly)
    assert not unused, "these acknowledgments suppress nothing; remove them:\n" + "\n".join(unused)


@pytest.fixture(scope="module")
def options_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library's options that the example app does not use, each under cdk-nag (synth raises on a finding)."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_secretsmanager as secretsmanager

    from constructs_lib.defaults import secure_bucket
    from constructs_lib.engines.destined_function import DestinedFunction
    from constructs_lib.routes import BucketRoute, FunctionRoute, TopicRoute
    from constructs_lib.workloads.defect_detection.defect_detection_pipeline import (
        DefectDetectionPipeline,
        DefectEndpoint,
        Ingestion,
    )
    from constructs_lib.workloads.power_tuning.power_tuning import PowerTuning
    from constructs_lib.workloads.s3_batch.s3_batch_lambda_job import BatchManifest, S3BatchLambdaJob
    from constructs_lib.workloads.slack.slack_error_reporter import SlackErrorReporter, SlackWebhook
    from stacks._code import example_code
    from tests.conftest import new_app

    def props(**extra: Any) -> lambda_.FunctionProps:
        code = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
        return lambda_.FunctionProps(runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=code, **extra)

    outdir = tmp_path_factory.mktemp("options") / "cdk.out"
    app = new_app(outdir)
    routes = cdk.Stack(app, "Routes")
    target = DestinedFunction(routes, "Target", function_props=props()).function
    DestinedFunction(
        routes, "ToTopicAndBucket", function_props=props(), on_success=TopicRoute(), on_failure=BucketRoute()
    )
    DestinedFunction(routes, "ToFunction", function_props=props(), on_success=FunctionRoute(target))
    in_vpc = cdk.Stack(app, "Vpc", env=cdk.Environment(account="123456789012", region="us-east-1"))
    vpc = ec2.Vpc.from_vpc_attributes(
        in_vpc,
        "Vpc",
        vpc_id="vpc-1",
        availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-1"],
        private_subnet_route_table_ids=["rtb-1"],
    )
    DestinedFunction(in_vpc, "InVpc", function_props=props(vpc=vpc, allow_public_subnet=False))
    defect = cdk.Stack(app, "Defect")
    model = DefectEndpoint.from_model(
        model_data_url="s3://models-bucket/pcb/model.tar.gz",
        image_uri="811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
    )
    DefectDetectionPipeline(defect, "Pipeline", endpoint=model, ingestion=Ingestion.SQS, quarantine=True)
    batch = cdk.Stack(app, "Batch")
    S3BatchLambdaJob(
        batch,
        "Job",
        manifest=BatchManifest.from_keys(secure_bucket(batch, "Source"), ["a.txt"]),
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14, handler="sentiment.analyse", code=example_code("s3_batch_sentiment")
        ),
        create_job=True,
    )
    PowerTuning(cdk.Stack(app, "Tuning"), "Tuner", function_name_prefix="orders-")
    slack = cdk.Stack(app, "Slack")
    secret = secretsmanager.Secret.from_secret_name_v2(slack, "Webhook", "slack/webhook")
    wrapped = DestinedFunction(slack, "Wrapped", function_props=props()).function
    SlackErrorReporter(slack, "Reporter", webhook=SlackWebhook.from_secret(secret, field="url"), functions=[wrapped])
    app.synth()
    return outdir


def test_no_acknowledgment_of_the_library_options_without_a_finding_to_suppress(options_assembly: Path) -> None:
    unused = unused_acknowledgments(options_assembly)
    assert not unused, "these acknowledgments suppress nothing; remove them:\n" + "\n".join(unused)


def test_no_policy_of_the_library_options_grants_an_unlisted_action_on_every_resource(options_assembly: Path) -> None:
    # Left out: the function with vpc= (secure_function grants the network-interface actions of
    # AWSLambdaVPCAccessExecutionRole on *, as that managed policy does: Lambda names the interfaces at run time).
    problems = [
        f"{path.name}: {problem}"
        for path in sorted(options_assembly.glob("*.template.json"))
        if path.name != "Vpc.template.json"
        for problem in wildcard_resource_problems(json.loads(path.read_text()))
    ]
    assert not problems, "\n".join(problems)


README_SECTION = "## cdk-nag acknowledgments"


@dataclass(frozen=True)
class ReadmeRow:
    rule: re.Pattern[str]
    reason: re.Pattern[str]
    count: int
    text: str


def _cell_pattern(cell: str, placeholder: str) -> re.Pattern[str]:
    """A README cell as a pattern: backticks dropped, whitespace collapsed, each ``<...>`` a placeholder."""
    text = " ".join(cell.replace("`", "").split())
    parts = re.split(r"(<[^<>]+>)", text)
    return re.compile("".join(placeholder if part.startswith("<") else re.escape(part) for part in parts))


def readme_rows(markdown: str) -> list[ReadmeRow]:
    """The rows of the tables with a Rule, a Reason and a Count column in the README's cdk-nag section.

    In a Rule cell ``<...>`` stands for one CloudFormation token (``<PipelineImagesAB336CA9.Arn>``); in a Reason
    cell, for any text (the name a construct puts in its reason)."""
    start = markdown.find(f"\n{README_SECTION}\n")
    assert start >= 0, f"no {README_SECTION!r} section"
    end = markdown.find("\n## ", start + 1)
    section = markdown[start : end if end >= 0 else len(markdown)]
    rows: list[ReadmeRow] = []
    header: list[str] | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: ") or not {"rule", "reason", "count"} <= set(header):
            continue
        row = dict(zip(header, cells, strict=True))
        rows.append(
            ReadmeRow(
                rule=_cell_pattern(row["rule"], r"<[^<>]+>"),
                reason=_cell_pattern(row["reason"], r".+?"),
                count=int(row["count"]),
                text=f"{row['rule']} | {row['reason']}",
            )
        )
    return rows


def readme_differences(rows: list[ReadmeRow], findings: list[Acknowledged]) -> list[str]:
    """What the README table gets wrong about ``findings``: unlisted, ambiguous, stale rows and wrong counts."""
    matched: dict[int, list[Acknowledged]] = defaultdict(list)
    problems = []
    for finding in findings:
        reason = " ".join(finding.reason.split())
        hits = [i for i, row in enumerate(rows) if row.rule.fullmatch(finding.rule) and row.reason.fullmatch(reason)]
        if len(hits) != 1:
            what = "matches no row" if not hits else f"matches {len(hits)} rows"
            problems.append(f"{finding.rule} at {finding.acknowledged_at} ({finding.reason!r}) {what}")
            continue
        matched[hits[0]].append(finding)
    for i, row in enumerate(rows):
        if len(matched[i]) != row.count:
            problems.append(f"row {row.text!r} says {row.count}, the app acknowledges {len(matched[i])}")
    return problems


def test_readme_lists_every_acknowledgment_of_the_example_app(cli_cloud_assembly: Path) -> None:
    findings = acknowledged_findings(cli_cloud_assembly)
    assert findings
    rows = readme_rows((REPO_ROOT / "docs" / "security.md").read_text())
    problems = readme_differences(rows, findings)
    assert not problems, f"docs/security.md {README_SECTION!r} is out of date:\n" + "\n".join(problems)


def test_readme_check_finds_a_missing_a_stale_and_a_miscounted_row() -> None:
    markdown = "\n".join(
        [
            "# x",
            README_SECTION,
            "",
            "| Rule | Where | Reason | Count |",
            "|---|---|---|---|",
            "| `AwsSolutions-IAM5[Resource::<Fn.Arn>:*]` | roles | invokes `ARN:*` of <which> function | 1 |",
            "| `AwsSolutions-SQS3` | DLQs | a DLQ of <what> | 3 |",
            "| `AwsSolutions-S1` | log buckets | gone | 1 |",
            "",
            "## next",
            "| Rule | Reason | Count |",
            "|---|---|---|",
            "| `AwsSolutions-L1` | not in the section | 1 |",
        ]
    )
    findings = [
        Acknowledged("AwsSolutions-IAM5[Resource::<Classify5848C28F.Arn>:*]", "invokes ARN:* of one function", "", "a"),
        Acknowledged("AwsSolutions-SQS3", "a DLQ of the rule target X", "", "b"),
        Acknowledged("AwsSolutions-SQS3", "a DLQ of the subscription", "", "c"),
        Acknowledged("AwsSolutions-IAM5[Resource::*]", "xray", "", "d"),
    ]
    problems = readme_differences(readme_rows(markdown), findings)
    assert problems == [
        "AwsSolutions-IAM5[Resource::*] at d ('xray') matches no row",
        "row '`AwsSolutions-SQS3` | a DLQ of <what>' says 3, the app acknowledges 2",
        "row '`AwsSolutions-S1` | gone' says 1, the app acknowledges 0",
    ]
