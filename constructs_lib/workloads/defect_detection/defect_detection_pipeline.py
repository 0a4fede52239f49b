"""DefectDetectionPipeline: images land in a bucket, a SageMaker image classifier scores them, the workflow acts.

S3 (encrypted, TLS only, versioned, access-logged)
  --EventBridge "Object Created" rule (DLQ, retries)  or  S3 notification -> SQS (DLQ) -> starter function-->
Step Functions: Inspect (function: read the image, call the endpoint, decide; retries throttling with backoff)
  -> RecordResult (DynamoDB, every result, typed attributes)
  -> Choice: DEFECTIVE -> alert route (encrypted SNS topic) [+ quarantine tag]; REVIEW -> review route; else done
  -> any failure -> failure route (the execution record), the execution ends FAILED (alarms on Failed / TimedOut).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.alarms import claim_queue_alarms
from constructs_lib._internal.assets import runtime_code
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.validation import Problems, is_unresolved
from constructs_lib.defaults import secure_bucket, secure_function, secure_queue, struct_values
from constructs_lib.engines._jsonata import KEEP_STATE
from constructs_lib.engines.function_workflow import FunctionWorkflow, WorkflowAlarmOptions
from constructs_lib.engines.steps import Choice, Deliver, Invoke, RetryRule, ServiceTask, Step
from constructs_lib.routes import (
    BoundRoute,
    Capability,
    QueueRoute,
    Route,
    RouteSide,
    RuleTargetOptions,
    StateMachineRoute,
    TopicRoute,
    bind_rule_target,
    retry_delivery,
)

RUNTIME = lambda_.Runtime.PYTHON_3_14
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""SageMaker real-time inference takes request payloads up to 6 MB."""
RETRYABLE_ERRORS = ["EndpointThrottledError"]
_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9.\-]{3,63})/(?P<key>.+)$")
# An ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag | @sha256:digest]
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$"
)


class Ingestion(Enum):
    """How new images reach the workflow."""

    EVENTBRIDGE = "eventbridge"
    """S3 sends ``Object Created`` events to EventBridge; a rule starts the workflow (DLQ, retry policy)."""
    SQS = "sqs"
    """S3 notifies an SQS queue (DLQ); a small function starts one execution per image (idempotent)."""


@dataclass(frozen=True)
class DefectEndpoint:
    """The SageMaker endpoint: an existing one by name (the common case), or one made from a model artifact."""

    endpoint_name: str | None = None
    model_data_url: str | None = None
    image_uri: str | None = None
    instance_type: str = "ml.m5.large"
    instance_count: int = 1

    @classmethod
    def from_endpoint_name(cls, endpoint_name: str) -> DefectEndpoint:
        """An endpoint that already exists in the stack's account and region, by name."""
        return cls(endpoint_name=endpoint_name)

    @classmethod
    def from_model(
        cls, *, model_data_url: str, image_uri: str, instance_type: str = "ml.m5.large", instance_count: int = 1
    ) -> DefectEndpoint:
        """A model artifact (``s3://bucket/path/model.tar.gz``) and its inference image: the construct makes the
        model, endpoint configuration and endpoint."""
        return cls(
            model_data_url=model_data_url,
            image_uri=image_uri,
            instance_type=instance_type,
            instance_count=instance_count,
        )

    def validate(self, problems: Problems) -> None:
        if (self.endpoint_name is None) == (self.model_data_url is None):
            problems.add(
                "endpoint: give DefectEndpoint.from_endpoint_name(name) or "
                "DefectEndpoint.from_model(model_data_url=..., image_uri=...), exactly one"
            )
        name = self.endpoint_name
        if name is not None and not is_unresolved(name) and not _ENDPOINT_NAME.match(name):
            problems.add(
                f"endpoint: {name!r} is not a SageMaker endpoint name (1-63 letters, digits and hyphens, "
                "starting with a letter or digit)"
            )
        if self.model_data_url is not None:
            if not is_unresolved(self.model_data_url) and not _S3_URL.match(self.model_data_url):
                problems.add(
                    "endpoint: model_data_url must look like s3://bucket/path/model.tar.gz, "
                    f"got {self.model_data_url!r}"
                )
            if not self.image_uri:
                problems.add("endpoint: from_model needs image_uri, the inference container image of the model")
            if self.instance_count < 1:
                problems.add(f"endpoint: instance_count must be at least 1, got {self.instance_count}")


class DefectDetectionPipeline(Construct):
    """Classify every image uploaded to a bucket with a SageMaker endpoint and act on the result."""

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: DefectEndpoint,
        class_names: Sequence[str] = ("defect_free", "defective"),
        defect_class: str = "defective",
        defect_threshold: float = 0.5,
        confidence_floor: float = 0.0,
        ingestion: Ingestion = Ingestion.EVENTBRIDGE,
        key_prefix: str | None = None,
        quarantine: bool = False,
        alert_route: Route | None = None,
        review_route: Route | None = None,
        on_failure: Route | None = None,
        bucket: s3.IBucket | None = None,
        bucket_props: s3.BucketProps | None = None,
        ingestion_queue: sqs.IQueue | None = None,
        ingestion_queue_props: sqs.QueueProps | None = None,
        timeout: Duration | None = None,
        alarms: WorkflowAlarmOptions | None = None,
        results_encryption_key: kms.IKey | None = None,
        query_language: sfn.QueryLanguage = sfn.QueryLanguage.JSON_PATH,
    ) -> None:
        """
        :param endpoint: ``DefectEndpoint.from_endpoint_name(name)`` or ``DefectEndpoint.from_model(...)``.
        :param class_names: the model's classes, in the order of its output array.
        :param defect_class: the class that means "defective".
        :param defect_threshold: an image is defective when the defect class's probability is at least this.
        :param confidence_floor: below this top probability an image goes to review, whatever its class.
            :default: 0 - never.
        :param ingestion: EventBridge (default) or SQS.
        :param key_prefix: only keys under this prefix are inspected. :default: - every new object.
        :param quarantine: tag defective images ``quarantine=true``. :default: false.
        :param alert_route: where defective results go. :default: - a new KMS-encrypted SNS topic.
        :param review_route: where low-confidence results go. :default: - a new encrypted SQS queue with a DLQ.
        :param on_failure: where failed executions' records go. :default: - a new encrypted SQS queue with a DLQ.
        :param bucket: an existing bucket for the images. With EventBridge ingestion, its EventBridge notifications
            are turned on (aws-cdk-lib's bucket-notifications custom resource). :default: - a new bucket: encrypted,
            TLS only, public access blocked, versioned, with server access logs.
        :param bucket_props: props of the image bucket to make, merged over those defaults (give ``bucket`` or
            ``bucket_props``, not both). :default: - the defaults alone.
        :param ingestion_queue: an existing queue for the upload notifications (SQS ingestion only). Its visibility
            timeout must be at least the starter function's 30 seconds (six times that is recommended).
            :default: - a new encrypted queue with a DLQ and a 3-minute visibility timeout.
        :param ingestion_queue_props: props of the ingestion queue to make, merged over those defaults (give
            ``ingestion_queue`` or ``ingestion_queue_props``, not both). :default: - the defaults alone.
        :param timeout: the workflow's timeout. :default: 5 minutes.
        :param alarms: the workflow's alarms (failed, timed-out, aborted and throttled executions, failure records
            waiting) and those of every queue the pipeline makes (the review and ingestion queues, the DLQs), with
            their actions. :default: - all on, threshold 1, with no action of their own (see ``AlarmActions``).
        :param results_encryption_key: a customer managed key for the results table (the workflow may use it to
            write). :default: - the AWS managed key of DynamoDB (``aws/dynamodb``).
        :param query_language: the language of the workflow's states (``FunctionWorkflow``'s ``query_language``):
            the same states, records and results in either. :default: - JSONPath.
        """
        super().__init__(scope, construct_id)
        problems = Problems()
        endpoint.validate(problems)
        _validate_classes(class_names, defect_class, defect_threshold, confidence_floor, problems)
        alert_route = alert_route if alert_route is not None else TopicRoute()
        review_route = review_route if review_route is not None else QueueRoute()
        alert_route.require(RouteSide.SUCCESS, Capability.WORKFLOW, problems, where="alert_route")
        review_route.require(RouteSide.SUCCESS, Capability.WORKFLOW, problems, where="review_route")
        if bucket is not None and bucket_props is not None:
            problems.add("give either bucket= (an existing bucket) or bucket_props= (to make one), not both")
        if ingestion_queue is not None and ingestion_queue_props is not None:
            problems.add(
                "give either ingestion_queue= (an existing queue) or ingestion_queue_props= (to make one), not both"
            )
        if ingestion is not Ingestion.SQS and (ingestion_queue is not None or ingestion_queue_props is not None):
            problems.add(
                "ingestion_queue= and ingestion_queue_props= are for ingestion=Ingestion.SQS; EventBridge ingestion "
                "uses no queue (its rule target has a DLQ of its own)"
            )
        problems.raise_if_any(self)

        stack = Stack.of(self)
        self.bucket: s3.IBucket
        if bucket is not None:
            self.bucket = bucket
            if ingestion is Ingestion.EVENTBRIDGE:
                bucket.enable_event_bridge_notification()
                self._acknowledge_notifications_handler()
        else:
            made_bucket = secure_bucket(self, "Images", bucket_props=bucket_props)
            if ingestion is Ingestion.EVENTBRIDGE:
                # The bucket's own NotificationConfiguration: no custom resource (and no function of its own) needed.
                bucket_resource = made_bucket.node.default_child
                assert isinstance(bucket_resource, s3.CfnBucket)
                bucket_resource.add_property_override(
                    "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
                )
            self.bucket = made_bucket
        self.endpoint_name, self.endpoint_arn = self._endpoint(endpoint, stack)
        self.table = dynamodb.Table(
            self,
            "Results",
            partition_key=dynamodb.Attribute(name="imageKey", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="inspectedAt", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=(
                dynamodb.TableEncryption.CUSTOMER_MANAGED
                if results_encryption_key is not None
                else dynamodb.TableEncryption.AWS_MANAGED
            ),
            encryption_key=results_encryption_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.inspect_function = self._handler_function(
            "Inspect",
            "inspect_image.handler",
            memory_size=512,
            timeout=Duration.seconds(60),
            description="Reads an image, classifies it with the SageMaker endpoint, decides",
            environment={
                "ENDPOINT_NAME": self.endpoint_name,
                "CLASS_NAMES": json.dumps(list(class_names)),
                "DEFECT_CLASS": defect_class,
                "DEFECT_THRESHOLD": str(defect_threshold),
                "CONFIDENCE_FLOOR": str(confidence_floor),
                "MAX_IMAGE_BYTES": str(MAX_PAYLOAD_BYTES),
            },
        )
        images = self.bucket.arn_for_objects(f"{key_prefix or ''}*")
        self.inspect_function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[images])
        )
        # ListBucket lets a missing key answer 404 (ImageNotFoundError) rather than 403.
        self.inspect_function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
        )
        if self.bucket.encryption_key is not None:
            self.bucket.encryption_key.grant_decrypt(self.inspect_function)
        nag.objects_grant(
            self.inspect_function.role,
            self.bucket,
            f"{key_prefix or ''}*",
            "reads any new image of this one bucket (under the key prefix): the keys are not known in advance",
        )
        self.inspect_function.add_to_role_policy(
            iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=[self.endpoint_arn])
        )

        alarm_options = alarms or WorkflowAlarmOptions()
        self._key_prefix = key_prefix
        self._jsonata = query_language == sfn.QueryLanguage.JSONATA
        self.alert_route: BoundRoute = alert_route.bind(self, "Alerts")
        self.review_route: BoundRoute = review_route.bind(self, "Review")
        defective_steps: list[Step] = [Deliver("AlertDefect", alert_route, detail_type="Defect Detected")]
        if quarantine:
            defective_steps.append(ServiceTask("Quarantine", self._quarantine_task))
        self.workflow = FunctionWorkflow(
            self,
            "Workflow",
            query_language=query_language,
            steps=[
                Invoke(
                    "InspectImage",
                    self.inspect_function,
                    retries=[
                        RetryRule(
                            errors=RETRYABLE_ERRORS,
                            interval=Duration.seconds(2),
                            max_attempts=4,
                            backoff_rate=2.0,
                            max_delay=Duration.seconds(30),
                            jitter=True,
                        )
                    ],
                ),
                ServiceTask("RecordResult", self._record_task),
                Choice(
                    "Decide",
                    branches=[
                        (self._decision_is("DEFECTIVE"), defective_steps),
                        (
                            self._decision_is("REVIEW"),
                            [Deliver("SendToReview", review_route, detail_type="Defect Review Needed")],
                        ),
                    ],
                ),
            ],
            on_failure=on_failure,
            timeout=timeout or Duration.minutes(5),
            alarms=alarm_options,
        )
        self.state_machine = self.workflow.state_machine
        self.failure_route = self.workflow.failure_route
        if results_encryption_key is not None:  # RecordResult writes through the key (no wildcard action needed)
            results_encryption_key.grant(self.workflow.role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        if quarantine:
            nag.objects_grant(
                self.workflow.role,
                self.bucket,
                f"{key_prefix or ''}*",
                "tags any defective image of this one bucket (under the key prefix) as quarantined: the keys are not "
                "known in advance",
            )

        self.ingestion_dead_letter_queue: sqs.IQueue | None
        """Where uploads go that never started a workflow: the rule target's DLQ (EventBridge), or the ingestion
        queue's redrive DLQ (SQS; None for an existing queue without one)."""
        if ingestion is Ingestion.EVENTBRIDGE:
            self._eventbridge_ingestion(key_prefix)
        else:
            self._sqs_ingestion(key_prefix, ingestion_queue, ingestion_queue_props)
        self.alarms: dict[str, cloudwatch.Alarm] = dict(self.workflow.alarms)
        """The workflow's alarms and those of every queue the pipeline made."""
        claim_queue_alarms(self, self.alarms, enabled=alarm_options.enabled, actions=alarm_options.actions)

    def _handler_function(self, construct_id: str, handler: str, **props: Any) -> lambda_.Function:
        """A function of the ``defect_detection`` asset, with the library's secure defaults."""
        function_props = lambda_.FunctionProps(runtime=RUNTIME, handler=handler, code=runtime_code(__file__), **props)
        function, _ = secure_function(self, construct_id, function_props=function_props)
        return function

    # ------------------------------------------------------------------------------------------------ endpoint

    def _endpoint(self, endpoint: DefectEndpoint, stack: Stack) -> tuple[str, str]:
        """The endpoint's name and ARN (endpoint ARNs spell the name in lower case)."""
        if endpoint.endpoint_name is not None:
            name = endpoint.endpoint_name
            return name, stack.format_arn(service="sagemaker", resource="endpoint", resource_name=_lower(name))
        assert endpoint.model_data_url is not None
        assert endpoint.image_uri is not None
        match = _S3_URL.match(endpoint.model_data_url)
        role = iam.Role(
            self,
            "ModelRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Execution role of the defect classifier model",
        )
        if match:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[f"arn:{Stack.of(self).partition}:s3:::{match['bucket']}/{match['key']}"],
                )
            )
        image = _ECR_IMAGE.match(endpoint.image_uri)
        if image:  # the image's own repository, whichever account holds it (AWS-owned for built-in algorithms)
            repository = (
                f"arn:{Stack.of(self).partition}:ecr:{image['region']}:{image['account']}:"
                f"repository/{image['repository']}"
            )
            role.add_to_policy(
                iam.PolicyStatement(actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resources=[repository])
            )
            nag.allow_unscoped_actions(
                role,
                actions=["ecr:GetAuthorizationToken"],
                reason="ecr:GetAuthorizationToken has no resource-level permissions; the image is read from its one "
                "repository. This policy holds that action only.",
            )
        else:
            nag.allow_unscoped_actions(
                role,
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetAuthorizationToken"],
                reason="ecr:GetAuthorizationToken has no resource-level permissions; the image URI is not an ECR URI "
                "known at synth, so its repository ARN is not known here. This policy holds those actions only.",
            )
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=endpoint.image_uri, model_data_url=endpoint.model_data_url
            ),
        )
        model.node.add_dependency(role)
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="AllTraffic",
                    model_name=model.attr_model_name,
                    initial_instance_count=endpoint.instance_count,
                    instance_type=endpoint.instance_type,
                    initial_variant_weight=1,
                )
            ],
        )
        made = sagemaker.CfnEndpoint(self, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name)
        return made.attr_endpoint_name, made.ref

    # ------------------------------------------------------------------------------------------------ states

    def _decision_is(self, decision: str) -> sfn.Condition:
        """The Choice rule ``decision == <decision>`` in the workflow's query language."""
        if self._jsonata:
            return sfn.Condition.jsonata(f"{{% $states.input.decision = {json.dumps(decision)} %}}")
        return sfn.Condition.string_equals("$.decision", decision)

    def _read(self, field: str) -> str:
        """A field of the state (``$.field``; ``$$.field`` of the context object) in the workflow's language."""
        context = field.startswith("$$.")
        if not self._jsonata:
            return sfn.JsonPath.string_at(field if context else f"$.{field}")
        return "{% $states.context." + field[3:] + " %}" if context else "{% $states.input." + field + " %}"

    def _record_task(self, scope: Construct, name: str) -> sfn.TaskStateBase:
        string = sfn_tasks.DynamoAttributeValue.from_string
        item = {
            "imageKey": string(self._read("key")),
            "inspectedAt": string(self._read("inspectedAt")),
            "bucket": string(self._read("bucket")),
            "decision": string(self._read("decision")),
            "defectScore": sfn_tasks.DynamoAttributeValue.number_from_string(self._read("defectScoreText")),
            "topClass": string(self._read("topClass")),
            "executionId": string(self._read("$$.Execution.Id")),
        }
        task: sfn.TaskStateBase
        if self._jsonata:  # the Output keeps the state as it was (JSONPath: ResultPath null)
            task = sfn_tasks.DynamoPutItem.jsonata(scope, name, table=self.table, item=item, outputs=KEEP_STATE)
        else:
            task = sfn_tasks.DynamoPutItem(scope, name, table=self.table, item=item, result_path=sfn.JsonPath.DISCARD)
        return retry_delivery(task, "dynamodb")  # a throttled write must not lose the result

    def _quarantine_task(self, scope: Construct, name: str) -> sfn.TaskStateBase:
        images = [self.bucket.arn_for_objects(f"{self._key_prefix or ''}*")]  # only inspected images
        parameters = {
            "Bucket": self._read("bucket"),
            "Key": self._read("key"),
            "Tagging": {"TagSet": [{"Key": "quarantine", "Value": "true"}]},
        }
        task: sfn.TaskStateBase
        if self._jsonata:
            task = sfn_tasks.CallAwsService.jsonata(
                scope,
                name,
                service="s3",
                action="putObjectTagging",
                iam_resources=images,
                iam_action="s3:PutObjectTagging",
                parameters=parameters,
                outputs=KEEP_STATE,
            )
        else:
            task = sfn_tasks.CallAwsService(
                scope,
                name,
                service="s3",
                action="putObjectTagging",
                iam_resources=images,
                iam_action="s3:PutObjectTagging",
                parameters=parameters,
                result_path=sfn.JsonPath.DISCARD,
            )
        return retry_delivery(task, "s3")

    # ------------------------------------------------------------------------------------------------ ingestion

    def _eventbridge_ingestion(self, key_prefix: str | None) -> None:
        detail: dict[str, object] = {"bucket": {"name": [self.bucket.bucket_name]}}
        if key_prefix:
            detail["object"] = {"key": [{"prefix": key_prefix}]}
        self.rule = events.Rule(
            self,
            "ImageUploaded",
            description="New images in the bucket start the defect-detection workflow",
            event_pattern=events.EventPattern(source=["aws.s3"], detail_type=["Object Created"], detail=detail),
        )
        _, target, self.ingestion_dead_letter_queue = bind_rule_target(
            self,
            "StartWorkflow",
            StateMachineRoute(self.state_machine),
            RuleTargetOptions(
                message=events.RuleTargetInput.from_object(
                    {
                        "bucket": events.EventField.from_path("$.detail.bucket.name"),
                        "key": events.EventField.from_path("$.detail.object.key"),
                        "versionId": events.EventField.from_path("$.detail.object.version-id"),
                        "size": events.EventField.from_path("$.detail.object.size"),
                    }
                )
            ),
        )
        self.rule.add_target(target)

    def _sqs_ingestion(
        self, key_prefix: str | None, queue: sqs.IQueue | None, queue_props: sqs.QueueProps | None
    ) -> None:
        if queue is None:
            # Visibility at least six times the starter's timeout (30 s), as Lambda recommends for SQS event sources.
            merged = sqs.QueueProps(**{"visibility_timeout": Duration.minutes(3), **struct_values(queue_props)})
            queue, _ = secure_queue(self, "Uploads", queue_props=merged)
        self.ingestion_queue: sqs.IQueue = queue
        redrive = queue.dead_letter_queue if isinstance(queue, sqs.Queue) else None
        self.ingestion_dead_letter_queue = redrive.queue if redrive is not None else None
        filters = [s3.NotificationKeyFilter(prefix=key_prefix)] if key_prefix else []
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED, s3n.SqsDestination(self.ingestion_queue), *filters
        )
        self.starter_function = self._handler_function(
            "Starter",
            "start_inspection.handler",
            timeout=Duration.seconds(30),
            description="Starts one defect-detection execution per uploaded image",
            environment={"STATE_MACHINE_ARN": self.state_machine.state_machine_arn},
        )
        self.state_machine.grant_start_execution(self.starter_function)
        self._acknowledge_notifications_handler()
        self.starter_function.add_event_source(
            event_sources.SqsEventSource(self.ingestion_queue, batch_size=10, report_batch_item_failures=True)
        )

    def _acknowledge_notifications_handler(self) -> None:
        handler = Stack.of(self).node.try_find_child(_NOTIFICATIONS_HANDLER)
        if isinstance(handler, Construct):
            nag.cdk_deploy_time_function(
                handler,
                "aws-cdk-lib's own bucket-notifications handler (a deploy-time custom resource) uses this managed "
                "policy; it only writes its logs",
            )


def _validate_classes(
    class_names: Sequence[str], defect_class: str, threshold: float, floor: float, problems: Problems
) -> None:
    names = list(class_names)
    if len(names) < 2:
        problems.add(f"class_names: a classifier has at least two classes, got {names}")
    if len(set(names)) != len(names):
        problems.add(f"class_names: the names must be unique, got {names}")
    if defect_class not in names:
        problems.add(f"defect_class {defect_class!r} is not one of class_names {names}")
    if not 0 < threshold <= 1:
        problems.add(f"defect_threshold must be in (0, 1], got {threshold}")
    if not 0 <= floor <= 1:
        problems.add(f"confidence_floor must be in [0, 1], got {floor}")


_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
"""The construct id aws-cdk-lib gives its singleton bucket-notifications handler."""


def _lower(name: str) -> str:
    return name if Token.is_unresolved(name) else name.lower()


__all__ = ["DefectDetectionPipeline", "DefectEndpoint", "Ingestion"]
