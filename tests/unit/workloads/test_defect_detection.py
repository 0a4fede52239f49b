"""DefectDetectionPipeline: what it synthesizes, what it refuses, and what it does when run through the local kit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from constructs_lib import ConstructPropsError, DefectDetectionPipeline, DefectEndpoint, Ingestion
from constructs_lib.testing import EndpointError, LocalKit, SynthesizedStack
from tests.conftest import SynthesizeOnce, new_stack, workflow_definitions

PNG = b"\x89PNG\r\n\x1a\n"
ENDPOINT = "pcb-defect-classifier"


def image(scores: list[Any] | str) -> bytes:
    """A small PNG-signed image; the endpoint stand-in below reads the scores the test wants from its body."""
    return PNG + (scores if isinstance(scores, str) else json.dumps(scores)).encode()


def stand_in(calls: list[bytes] | None = None, throttle: int = 0) -> Callable[[bytes, str], Any]:
    """The SageMaker endpoint for the kit: answers the scores carried by the image, after ``throttle`` throttles."""
    seen: list[bytes] = [] if calls is None else calls

    def endpoint(body: bytes, content_type: str) -> Any:
        assert content_type == "application/x-image"
        seen.append(body)
        if len(seen) <= throttle:
            raise EndpointError("ThrottlingException", "Rate exceeded")
        return body[len(PNG) :].decode()

    return endpoint


def pipeline_stack(app: cdk.App, **props: Any) -> cdk.Stack:
    stack = cdk.Stack(app, "Defects", env=cdk.Environment(account="123456789012", region="us-east-1"))
    DefectDetectionPipeline(
        stack,
        "Pipeline",
        endpoint=props.pop("endpoint", DefectEndpoint.from_endpoint_name(ENDPOINT)),
        confidence_floor=props.pop("confidence_floor", 0.6),
        **props,
    )
    return stack


def pipeline(synthesize_once: SynthesizeOnce, **props: Any) -> SynthesizedStack:
    """``pipeline_stack`` with ``props``, synthesized once per worker: most execution tests below run the same stack."""
    key = ("DefectDetectionPipeline", *sorted(props.items()))
    return synthesize_once(key, lambda app: pipeline_stack(app, **props))


# -- what it synthesizes ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The pipeline with quarantine on, synthesized once for the tests that only read its template."""
    stack = new_stack(tmp_path_factory.mktemp("cdk.out"))
    DefectDetectionPipeline(stack, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT), quarantine=True)
    return Template.from_stack(stack)


def test_images_bucket_is_encrypted_tls_only_versioned_logged_and_sends_events(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": Match.object_like({}),
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({}),
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "PublicAccessBlockConfiguration": Match.object_like({"BlockPublicAcls": True}),
        },
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Effect": "Deny"})])}},
    )


def test_only_the_inspect_function_may_invoke_only_that_endpoint(template: Template) -> None:
    policies = template.find_resources("AWS::IAM::Policy")
    invoke = [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "sagemaker:InvokeEndpoint" in json.dumps(statement["Action"])
    ]
    assert len(invoke) == 1
    assert f":endpoint/{ENDPOINT}" in json.dumps(invoke[0]["Resource"])


def test_results_table_is_encrypted_with_point_in_time_recovery(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "KeySchema": [
                {"AttributeName": "imageKey", "KeyType": "HASH"},
                {"AttributeName": "inspectedAt", "KeyType": "RANGE"},
            ],
        },
    )


def test_every_delivery_retries_throttling_so_no_result_is_lost(template: Template) -> None:
    (definition,) = workflow_definitions(template.to_json()).values()
    states = definition["States"]
    record_errors = states["RecordResult"]["Retry"][0]["ErrorEquals"]
    assert "DynamoDB.ProvisionedThroughputExceededException" in record_errors
    assert "DynamoDB.ThrottlingException" in record_errors
    assert "SNS.ThrottledException" in states["AlertDefect"]["Retry"][0]["ErrorEquals"]
    assert "SQS.AmazonSQSException" in states["SendToReview"]["Retry"][0]["ErrorEquals"]
    assert "S3.S3Exception" in states["Quarantine"]["Retry"][0]["ErrorEquals"]
    assert states["DeliverFailure"]["Retry"][0]["MaxAttempts"] == 6


def test_quarantine_tags_only_images_under_the_key_prefix(stack: cdk.Stack) -> None:
    DefectDetectionPipeline(
        stack, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT), quarantine=True, key_prefix="incoming/"
    )
    template = Template.from_stack(stack)
    tagging = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "s3:PutObjectTagging"
    ]
    assert len(tagging) == 1
    assert json.dumps(tagging[0]["Resource"]).endswith('"/incoming/*"]]}')


def test_uploads_reach_the_workflow_through_a_rule_with_a_dlq(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like({"source": ["aws.s3"], "detail-type": ["Object Created"]}),
            "Targets": [
                Match.object_like({"DeadLetterConfig": Match.object_like({}), "RetryPolicy": Match.any_value()})
            ],
        },
    )
    template.resource_count_is("Custom::S3BucketNotifications", 0)


def test_the_model_variant_makes_model_config_and_endpoint(stack: cdk.Stack) -> None:
    DefectDetectionPipeline(
        stack,
        "Pipeline",
        endpoint=DefectEndpoint.from_model(
            model_data_url="s3://models-bucket/pcb/model.tar.gz",
            image_uri="811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
        ),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SageMaker::Model", 1)
    template.resource_count_is("AWS::SageMaker::EndpointConfig", 1)
    template.resource_count_is("AWS::SageMaker::Endpoint", 1)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": "s3:GetObject"})])}},
    )


def test_sqs_ingestion_makes_a_queue_with_a_dlq_and_a_starter_reporting_batch_failures(stack: cdk.Stack) -> None:
    DefectDetectionPipeline(
        stack, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT), ingestion=Ingestion.SQS
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    )
    template.has_resource_properties("AWS::SQS::Queue", {"RedrivePolicy": Match.object_like({"maxReceiveCount": 3})})


def test_an_existing_bucket_gets_eventbridge_notifications_and_no_bucket_is_made(stack: cdk.Stack) -> None:
    images = s3.Bucket.from_bucket_name(stack, "Existing", "my-images")
    pipeline = DefectDetectionPipeline(
        stack, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT), bucket=images, quarantine=True
    )
    assert pipeline.bucket is images
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 0)
    template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {"NotificationConfiguration": {"EventBridgeConfiguration": {}}, "Managed": False},
    )
    reads = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:GetObject" in json.dumps(statement["Action"])
    ]
    assert len(reads) == 1
    assert ":s3:::my-images/*" in json.dumps(reads[0]["Resource"])


def test_an_existing_kms_encrypted_bucket_lets_the_inspect_function_decrypt(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "ImagesKey", enable_key_rotation=True)
    images = s3.Bucket(
        stack,
        "Images",
        encryption_key=key,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_prefix="access-logs/",
    )
    DefectDetectionPipeline(
        stack, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT), bucket=images, ingestion=Ingestion.SQS
    )
    template = Template.from_stack(stack)
    decrypts = [
        policy
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if "kms:Decrypt" in json.dumps(policy["Properties"]["PolicyDocument"])
        and "PipelineInspectServiceRole" in json.dumps(policy["Properties"]["Roles"])
    ]
    assert len(decrypts) == 1


def test_ingestion_queue_props_are_merged_over_the_defaults(stack: cdk.Stack) -> None:
    pipeline = DefectDetectionPipeline(
        stack,
        "Pipeline",
        endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT),
        ingestion=Ingestion.SQS,
        ingestion_queue_props=sqs.QueueProps(retention_period=cdk.Duration.days(2)),
    )
    assert pipeline.ingestion_dead_letter_queue is not None
    Template.from_stack(stack).has_resource_properties(
        "AWS::SQS::Queue",
        {"MessageRetentionPeriod": 172800, "VisibilityTimeout": 180, "SqsManagedSseEnabled": True},
    )


def test_an_existing_ingestion_queue_is_what_the_starter_reads(stack: cdk.Stack) -> None:
    dead_letters = sqs.Queue(stack, "UploadsDeadLetters", enforce_ssl=True)
    queue = sqs.Queue(
        stack,
        "OwnUploads",
        enforce_ssl=True,
        visibility_timeout=cdk.Duration.minutes(3),
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dead_letters),
    )
    pipeline = DefectDetectionPipeline(
        stack,
        "Pipeline",
        endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT),
        ingestion=Ingestion.SQS,
        ingestion_queue=queue,
    )
    assert pipeline.ingestion_queue is queue
    assert pipeline.ingestion_dead_letter_queue is dead_letters
    template = Template.from_stack(stack)
    assert not [name for name in template.find_resources("AWS::SQS::Queue") if name.startswith("PipelineUploads")]
    (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0].startswith("OwnUploads")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"endpoint": DefectEndpoint()}, "exactly one"),
        ({"endpoint": DefectEndpoint.from_endpoint_name("bad name!")}, "is not a SageMaker endpoint name"),
        ({"endpoint": DefectEndpoint(model_data_url="http://x", image_uri="i")}, "must look like s3://"),
        ({"defect_class": "scratch"}, "defect_class 'scratch' is not one of class_names"),
        ({"class_names": ["only"], "defect_class": "only"}, "at least two classes"),
        ({"defect_threshold": 0}, "defect_threshold must be in (0, 1]"),
        ({"confidence_floor": 1.5}, "confidence_floor must be in [0, 1]"),
        (
            {"bucket": "EXISTING", "bucket_props": s3.BucketProps(versioned=True)},
            "give either bucket= (an existing bucket) or bucket_props= (to make one), not both",
        ),
        (
            {"ingestion": Ingestion.SQS, "ingestion_queue": "EXISTING", "ingestion_queue_props": sqs.QueueProps()},
            "give either ingestion_queue= (an existing queue) or ingestion_queue_props= (to make one), not both",
        ),
        ({"ingestion_queue_props": sqs.QueueProps()}, "ingestion_queue= and ingestion_queue_props= are for"),
    ],
)
def test_rejects_bad_props(stack: cdk.Stack, props: dict[str, Any], message: str) -> None:
    props.setdefault("endpoint", DefectEndpoint.from_endpoint_name(ENDPOINT))
    if props.get("bucket") == "EXISTING":
        props["bucket"] = s3.Bucket.from_bucket_name(stack, "Existing", "my-images")
    if props.get("ingestion_queue") == "EXISTING":
        props["ingestion_queue"] = sqs.Queue.from_queue_arn(stack, "Queue", "arn:aws:sqs:us-east-1:123456789012:q")
    with pytest.raises(ConstructPropsError, match=re.escape(message)):
        DefectDetectionPipeline(stack, "Pipeline", **props)


# -- what it does (local kit, real handlers, the endpoint a stand-in), its workflow in JSONPath and in JSONata --------
@pytest.fixture(params=[sfn.QueryLanguage.JSON_PATH, sfn.QueryLanguage.JSONATA], ids=["jsonpath", "jsonata"])
def language(request: pytest.FixtureRequest) -> sfn.QueryLanguage:
    """The workflow's query language: every execution test below runs in both."""
    language: sfn.QueryLanguage = request.param
    return language


@pytest.mark.execution
def test_a_defective_image_is_alerted_quarantined_and_recorded(
    synthesize_once: SynthesizeOnce, language: sfn.QueryLanguage
) -> None:
    stack = pipeline(synthesize_once, quarantine=True, query_language=language)
    with LocalKit(stack, endpoints={ENDPOINT: stand_in()}) as kit:
        kit.put_object("Pipeline/Images", "incoming/board-1.png", image([0.03, 0.97]))
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        alerts = kit.received("Pipeline/AlertsTopic")
        items = kit.items("Pipeline/Results")
        tags = kit.client("s3").get_object_tagging(Bucket=kit.ref("Pipeline/Images"), Key="incoming/board-1.png")

    assert run.status == "SUCCEEDED", run.cause
    # 6 state transitions: the README's cost table counts these.
    assert run.states_entered == ["InspectImage", "RecordResult", "Decide", "AlertDefect", "Quarantine", "Succeeded"]
    assert [alert["key"] for alert in alerts] == ["incoming/board-1.png"]
    assert alerts[0]["decision"] == "DEFECTIVE"
    assert alerts[0]["defectScore"] == pytest.approx(0.97)
    assert alerts[0]["link"].startswith("https://s3.console.aws.amazon.com/s3/object/")
    assert [item["decision"] for item in items] == ["DEFECTIVE"]
    assert {"Key": "quarantine", "Value": "true"} in tags["TagSet"]


@pytest.mark.execution
def test_a_defect_free_image_gets_a_typed_dynamodb_record_and_no_alert(
    synthesize_once: SynthesizeOnce, language: sfn.QueryLanguage
) -> None:
    stack = pipeline(synthesize_once, query_language=language)
    with LocalKit(stack, endpoints={ENDPOINT: stand_in()}) as kit:
        kit.put_object("Pipeline/Images", "incoming/board 2.png", image([0.9, 0.1]))
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        items = kit.items("Pipeline/Results")
        alerts = kit.received("Pipeline/AlertsTopic")

    assert alerts == []
    assert run.states_entered == ["InspectImage", "RecordResult", "Decide", "Succeeded"]
    (item,) = items
    assert item["imageKey"] == "incoming/board 2.png"
    assert item["decision"] == "DEFECT_FREE"
    assert item["defectScore"] == Decimal("0.1")


@pytest.mark.execution
def test_a_low_confidence_image_goes_to_review(synthesize_once: SynthesizeOnce, language: sfn.QueryLanguage) -> None:
    stack = pipeline(synthesize_once, query_language=language)
    with LocalKit(stack, endpoints={ENDPOINT: stand_in()}) as kit:
        kit.put_object("Pipeline/Images", "incoming/blurry.png", image([0.45, 0.55]))
        review = kit.messages("Pipeline/ReviewQueue")
        alerts = kit.received("Pipeline/AlertsTopic")

    assert [message["decision"] for message in review] == ["REVIEW"]
    assert alerts == []


@pytest.mark.execution
@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"%PDF-1.7 not an image", "NotAnImageError"),
        (b"", "EmptyImageError"),
        (image("not json"), "EndpointResponseError"),
        (image([0.2, 0.3, 0.5]), "EndpointResponseError"),
    ],
)
def test_broken_images_and_bad_answers_land_in_the_failure_route(
    synthesize_once: SynthesizeOnce, language: sfn.QueryLanguage, body: bytes, error: str
) -> None:
    stack = pipeline(synthesize_once, query_language=language)
    with LocalKit(stack, endpoints={ENDPOINT: stand_in()}) as kit:
        kit.put_object("Pipeline/Images", "incoming/broken.png", body)
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        failures = kit.messages("Pipeline/Workflow/OnFailureQueue")

    assert run.status == "FAILED"
    assert run.attempts("InspectImage") == 1, "a broken image is not retried"
    assert [record["responsePayload"]["errorType"] for record in failures] == [error]


@pytest.mark.execution
def test_endpoint_throttling_is_retried_with_backoff(
    synthesize_once: SynthesizeOnce, language: sfn.QueryLanguage
) -> None:
    stack = pipeline(synthesize_once, query_language=language)
    calls: list[bytes] = []
    with LocalKit(stack, endpoints={ENDPOINT: stand_in(calls, throttle=2)}) as kit:
        kit.put_object("Pipeline/Images", "incoming/board-3.png", image([0.8, 0.2]))
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")

    assert run.status == "SUCCEEDED", run.cause
    assert len(calls) == 3, run.task_errors("InspectImage")
    assert run.attempts("InspectImage") == 3
    assert run.task_errors("InspectImage") == ["EndpointThrottledError", "EndpointThrottledError"]
    assert len(run.retry_intervals("InspectImage")) == 2
    assert len(calls) == 3


@pytest.mark.execution
def test_sqs_ingestion_decodes_keys_and_ignores_the_s3_test_event(
    synthesize_once: SynthesizeOnce, language: sfn.QueryLanguage
) -> None:
    stack = pipeline(synthesize_once, ingestion=Ingestion.SQS, query_language=language)
    key = "incoming/café board+1 (a).png"
    with LocalKit(stack, endpoints={ENDPOINT: stand_in()}) as kit:
        runs_after_setup = kit.executions("Pipeline/Workflow/StateMachine")
        kit.put_object("Pipeline/Images", key, image([0.9, 0.1]))
        runs = kit.executions("Pipeline/Workflow/StateMachine")
        starter = kit.invocations("Pipeline/Starter")
        items = kit.items("Pipeline/Results")

    assert runs_after_setup == []
    assert [run.status for run in runs] == ["SUCCEEDED"]
    assert [item["imageKey"] for item in items] == [key]
    assert all(invocation.succeeded for invocation in starter)
    bodies = [record["body"] for invocation in starter for record in invocation.event["Records"]]
    assert any("s3:TestEvent" in body for body in bodies), "S3 sends a test event when the notification is set up"


def test_the_results_table_takes_a_customer_managed_key_the_workflow_may_use(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "ResultsKey", enable_key_rotation=True)
    DefectDetectionPipeline(
        stack, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT), results_encryption_key=key
    )
    template = Template.from_stack(stack)
    key_id = stack.get_logical_id(key.node.default_child)  # type: ignore[arg-type]
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}},
    )
    statements = [
        statement
        for lid, policy in template.find_resources("AWS::IAM::Policy").items()
        if "WorkflowStateMachineRole" in lid
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
    } in statements
