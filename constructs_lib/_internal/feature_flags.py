"""The aws-cdk-lib feature flags the library's secure defaults assume, and the synth-time warning when one is off.

An app without a ``cdk.json`` (or with an old one) synthesizes with aws-cdk-lib's legacy behaviour for every flag it
does not set; where that weakens what the library makes, the construct that makes it says so at synth, once per
resource, naming the flag and the line to add to ``cdk.json``.
"""

from __future__ import annotations

from aws_cdk import Annotations, FeatureFlags
from constructs import IConstruct

RELIED_ON: dict[str, str] = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": (
        "S3 server access logs are delivered under a bucket policy; with the flag off, aws-cdk-lib gives every "
        "access-log bucket the legacy LogDeliveryWrite ACL instead"
    ),
}
"""Flag -> what turning it off changes in what the library makes. Each is ``true`` in the recommended cdk.json."""


def warn_if_off(scope: IConstruct, flag: str) -> None:
    """A synth warning on ``scope`` if ``flag`` (one of ``RELIED_ON``) is not enabled in the app's context."""
    if FeatureFlags.of(scope).is_enabled(flag):
        return
    Annotations.of(scope).add_warning_v2(
        f"constructs-lib:feature-flag:{flag.rsplit(':', maxsplit=1)[-1]}",
        f'The feature flag {flag} is off: {RELIED_ON[flag]}. Add "{flag}": true to the "context" of your '
        "cdk.json (the library's documentation has a recommended cdk.json with every flag it assumes).",
    )
