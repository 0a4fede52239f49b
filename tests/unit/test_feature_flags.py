"""The feature flags the library's defaults assume: on in the recommended cdk.json (the repository's own flags), and
a synth warning on what they weaken when an app leaves them off."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import secure_bucket
from constructs_lib._internal.feature_flags import RELIED_ON
from tests.conftest import REPO_ROOT, cdk_context

RECOMMENDED = REPO_ROOT / "docs" / "examples" / "cdk.json"
FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def test_the_recommended_cdk_json_is_the_repositorys_and_turns_on_every_flag_the_library_relies_on() -> None:
    recommended = json.loads(RECOMMENDED.read_text())
    assert recommended["app"] == "python3 app.py"
    assert recommended["context"] == cdk_context()
    assert {flag: recommended["context"].get(flag) for flag in RELIED_ON} == dict.fromkeys(RELIED_ON, True)


def bucket_stack(tmp_path: Path, context: dict[str, object]) -> cdk.Stack:
    app = cdk.App(context=context, outdir=str(tmp_path), analytics_reporting=False)
    stack = cdk.Stack(app, "Logs")
    secure_bucket(stack, "Documents")
    return stack


def test_an_app_without_the_flags_is_warned_where_the_default_is_weakened(tmp_path: Path) -> None:
    stack = bucket_stack(tmp_path, {})
    Template.from_stack(stack).has_resource_properties("AWS::S3::Bucket", {"AccessControl": "LogDeliveryWrite"})
    Annotations.from_stack(stack).has_warning(
        "/Logs/DocumentsAccessLogs",
        Match.string_like_regexp(rf'{FLAG} is off: .* Add "{FLAG}": true to the "context" of your cdk.json'),
    )


def test_an_app_with_the_recommended_flags_gets_no_warning_and_no_acl(tmp_path: Path) -> None:
    stack = bucket_stack(tmp_path, cdk_context())
    assert not Template.from_stack(stack).find_resources(
        "AWS::S3::Bucket", {"Properties": {"AccessControl": Match.any_value()}}
    )
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("feature flag"))
