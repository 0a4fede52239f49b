"""A function's architecture and its code: UpdateFunctionCode's Architectures, versions as snapshots, GetFunction's
code location downloaded for real, and the kit's speed model per architecture."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import ssl
import urllib.error
import urllib.request
import zipfile

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from botocore.exceptions import ClientError

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import ECHO, inline

pytestmark = pytest.mark.execution

READER = "code-reader"
DOWNLOAD = """
import base64, hashlib, urllib.error, urllib.request
import boto3

def handler(event, context):
    found = boto3.client("lambda").get_function(FunctionName=context.function_name)
    location = found["Code"]["Location"]
    if event.get("tamper"):
        location = location[:-1] + ("0" if location[-1] != "0" else "1")
    try:
        with urllib.request.urlopen(location, timeout=30) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": error.read().decode()}
    return {"status": 200, "sha256": base64.b64encode(hashlib.sha256(body).digest()).decode(), "location": location}
"""


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit", env=cdk.Environment(account="123456789012", region="us-east-1"))


def code_reader(stack: cdk.Stack) -> None:
    """A function that downloads its own code from GetFunction's location (allowed lambda:GetFunction on itself)."""
    reader = inline(stack, "Reader", DOWNLOAD, function_name=READER)
    reader.add_to_role_policy(
        iam.PolicyStatement(
            actions=["lambda:GetFunction"],
            resources=[
                stack.format_arn(
                    service="lambda",
                    resource="function",
                    resource_name=READER,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )


def test_update_function_code_changes_the_architecture(kit_stack: cdk.Stack) -> None:
    """Lambda code: UpdateFunctionCode's Architectures is "the instruction set architecture that the function
    supports"; the answer, GetFunctionConfiguration and GetFunction's Configuration then give the new one.

    AWS: https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
    Kit: moto ignores Architectures there; the kit keeps it on $LATEST (moto's own check of the value stays).
    Divergence: none
    """
    inline(kit_stack, "Echo", ECHO)
    with LocalKit.from_stack(kit_stack) as kit:
        client, name = kit.client("lambda"), kit.ref("Echo")
        package = client.get_function(FunctionName=name)
        before = package["Configuration"]
        zip_file = urllib.request.urlopen(package["Code"]["Location"], context=trusting(kit)).read()
        answer = client.update_function_code(FunctionName=name, ZipFile=zip_file, Architectures=["arm64"])
        configuration = client.get_function_configuration(FunctionName=name)
        function = client.get_function(FunctionName=name)["Configuration"]
        ran = kit.invoke("Echo", {})

    assert before["Architectures"] == ["x86_64"]
    assert answer["Architectures"] == configuration["Architectures"] == function["Architectures"] == ["arm64"]
    assert configuration["CodeSha256"] == before["CodeSha256"]  # the same package, put back
    assert ran.architecture == "arm64"


def test_a_published_version_keeps_its_architecture(kit_stack: cdk.Stack) -> None:
    """Lambda code: once published, a version's "code, runtime, architecture, memory, layers, and most other
    configuration settings are immutable"; $LATEST may change on.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html
    Kit: the version keeps the architecture and the package (CodeSha256, Code.Location) it was published with;
    invoking it runs on that architecture.
    Divergence: none
    """
    inline(kit_stack, "Echo", ECHO)
    with LocalKit.from_stack(kit_stack) as kit:
        client, name = kit.client("lambda"), kit.ref("Echo")
        zip_file = urllib.request.urlopen(
            client.get_function(FunctionName=name)["Code"]["Location"], context=trusting(kit)
        ).read()
        client.update_function_code(FunctionName=name, ZipFile=zip_file, Architectures=["arm64"])
        version = client.publish_version(FunctionName=name)["Version"]
        client.update_function_code(FunctionName=name, ZipFile=other_package(), Architectures=["x86_64"])
        published = client.get_function(FunctionName=name, Qualifier=version)
        latest = client.get_function(FunctionName=name)
        version_package = urllib.request.urlopen(published["Code"]["Location"], context=trusting(kit)).read()
        latest_package = urllib.request.urlopen(latest["Code"]["Location"], context=trusting(kit)).read()
        on_version, on_latest = kit.invoke("Echo", {}, qualifier=version), kit.invoke("Echo", {})

    assert published["Configuration"]["Architectures"] == ["arm64"]
    assert latest["Configuration"]["Architectures"] == ["x86_64"]
    # The version's code is the code it was published with; $LATEST's is the new one.
    assert (version_package, latest_package) == (zip_file, other_package())
    assert published["Configuration"]["CodeSha256"] == sha256_of(zip_file)
    assert latest["Configuration"]["CodeSha256"] == sha256_of(other_package())
    assert (on_version.version, on_version.architecture) == (version, "arm64")
    assert (on_latest.version, on_latest.architecture) == ("$LATEST", "x86_64")


def test_an_architecture_lambda_does_not_have_is_refused(kit_stack: cdk.Stack) -> None:
    """Lambda code: UpdateFunctionCode's Architectures takes one of x86_64 and arm64; anything else is a validation
    error and changes nothing.

    AWS: https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
    Kit: ValidationException (moto's message; the page gives Valid Values x86_64 | arm64 and one item), $LATEST
    unchanged.
    Divergence: none
    """
    inline(kit_stack, "Echo", ECHO)
    with LocalKit.from_stack(kit_stack) as kit:
        client, name = kit.client("lambda"), kit.ref("Echo")
        zip_file = urllib.request.urlopen(
            client.get_function(FunctionName=name)["Code"]["Location"], context=trusting(kit)
        ).read()
        with pytest.raises(ClientError) as refused:
            client.update_function_code(FunctionName=name, ZipFile=zip_file, Architectures=["riscv64"])
        configuration = client.get_function_configuration(FunctionName=name)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert configuration["Architectures"] == ["x86_64"]


def test_a_handler_downloads_its_code_from_get_functions_location(kit_stack: cdk.Stack) -> None:
    """Lambda code: GetFunction's Code.Location is "a presigned URL that you can use to download the deployment
    package", valid for up to 10 minutes; the .zip file it gives hashes to the function's CodeSha256.

    AWS: https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html
    Kit: an https:// URL on 127.0.0.1 with a presigned-like query (X-Amz-Expires=600, a signature), served by a real
    HTTPS server; its certificate comes from a throwaway authority that handlers trust through SSL_CERT_FILE (set
    by the kit), not the test's own thread. A changed signature is refused (403) as S3 refuses it. The package is the
    kit's placeholder .zip (the kit runs the asset folder), so its hash is moto's CodeSha256.
    Divergence: the host is loopback, not awslambda-<region>-tasks.s3.<region>.amazonaws.com.
    """
    code_reader(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        downloaded = kit.invoke("Reader", {})
        tampered = kit.invoke("Reader", {"tamper": True})
        sha256 = kit.client("lambda").get_function_configuration(FunctionName=READER)["CodeSha256"]
        with pytest.raises(urllib.error.URLError) as untrusted:
            urllib.request.urlopen(downloaded.result["location"], timeout=30)
        served = kit.code_downloads

    assert downloaded.succeeded, downloaded.error_message
    assert downloaded.result["status"] == 200
    assert downloaded.result["sha256"] == sha256
    location = downloaded.result["location"]
    assert re.fullmatch(
        rf"https://127\.0\.0\.1:\d+/snapshots/123456789012/{READER}-[0-9a-f]{{32}}\?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        r"&X-Amz-Date=\d{8}T\d{6}Z&X-Amz-SignedHeaders=host&X-Amz-Expires=600&X-Amz-Signature=[0-9a-f]{64}",
        location,
    )
    assert tampered.result["status"] == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in tampered.result["body"]
    assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)  # the test's thread does not trust it
    assert [d.status for d in served] == [200, 403]


def test_duration_factors_scale_the_report_of_that_architecture(kit_stack: cdk.Stack) -> None:
    """Lambda architectures: a function's duration differs between arm64 and x86_64 (different processors); the
    page gives no fixed ratio (it links to "up to 34% better price performance" for arm64).

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html
    Kit: a speed model the test chooses, ``duration_factors={"arm64": f}``: the REPORT line's Duration (and Billed
    Duration) of an invocation on arm64 is its measured time times f, x86_64's the measured time
    (Invocation.duration_ms is the measured time, reported_duration_ms the modelled one).
    Divergence: a modelling choice of the kit, not AWS behaviour: handlers run on this machine's processor whatever
    their function's architecture.
    """
    inline(kit_stack, "Echo", ECHO)
    with LocalKit.from_stack(kit_stack, duration_factors={"arm64": 0.25}) as kit:
        client, name = kit.client("lambda"), kit.ref("Echo")
        on_x86 = client.invoke(FunctionName=name, LogType="Tail", Payload=b"{}")
        x86 = kit.invocations("Echo")[-1]
        zip_file = urllib.request.urlopen(
            client.get_function(FunctionName=name)["Code"]["Location"], context=trusting(kit)
        ).read()
        client.update_function_code(FunctionName=name, ZipFile=zip_file, Architectures=["arm64"])
        on_arm = client.invoke(FunctionName=name, LogType="Tail", Payload=b"{}")
        arm = kit.invocations("Echo")[-1]

    assert (x86.architecture, x86.duration_factor) == ("x86_64", 1.0)
    assert (arm.architecture, arm.duration_factor) == ("arm64", 0.25)
    assert f"Duration: {x86.duration_ms:.2f} ms" in base64.b64decode(on_x86["LogResult"]).decode()
    assert f"Duration: {arm.duration_ms * 0.25:.2f} ms" in base64.b64decode(on_arm["LogResult"]).decode()
    assert arm.reported_duration_ms == arm.duration_ms * 0.25


def other_package() -> bytes:
    """Another .zip file (a different CodeSha256); the same bytes on every call (a fixed entry time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("index.py", (2020, 1, 1, 0, 0, 0)), "def handler(event, context):\n    return 2\n"
        )
    return buffer.getvalue()


def sha256_of(package: bytes) -> str:
    """CodeSha256 as Lambda gives it: the package's SHA-256, base64."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


def trusting(kit: LocalKit) -> ssl.SSLContext:
    """An SSL context that trusts the kit's authority, for the test's own downloads (handlers trust it already)."""
    return ssl.create_default_context(cafile=str(kit.certificate_authority))
