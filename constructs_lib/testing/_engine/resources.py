"""Stand a synthesized stack up on moto: one creator per resource type, in dependency order.

Resources that have no behaviour to run locally (IAM, KMS, log groups, alarms, policies, permissions) are not
made; they get a local identity so that references to them resolve, and they are listed in ``skipped``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib.testing._engine import asl
from constructs_lib.testing._engine.intrinsics import (
    AnyAttributes,
    Physical,
    Resolver,
    TemplateError,
    references,
    text_of,
)
from constructs_lib.testing._engine.lambda_runtime import DurableSettings, LocalFunction, warn_if_cannot_stand_in
from constructs_lib.testing._engine.stream_sources import StreamEventSource
from constructs_lib.testing._engine.template import SynthesizedStack

KIT_ROLE_NAME = "local-kit-execution-role"
DURABLE_SDK = "aws_durable_execution_sdk_python"
_LOGICAL_ID_HASH = re.compile(r"^(?P<stem>.+?)[0-9A-F]{8}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+")
_EMPTY_ZIP: bytes | None = None


@dataclass(frozen=True)
class InvokeConfig:
    """A function's asynchronous invocation settings (``AWS::Lambda::EventInvokeConfig``), with AWS's defaults."""

    max_retries: int = 2
    max_event_age_seconds: int = 21600
    on_success: str | None = None
    on_failure: str | None = None


@dataclass
class SqsEventSource:
    """An SQS event source mapping, polled by the kit."""

    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    filters: tuple[Any, ...] = ()
    receives: dict[str, int] = field(default_factory=dict)


@dataclass
class StackResources:
    """The local resources of one stack, by logical id."""

    stack: SynthesizedStack
    physical: dict[str, Physical] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    invoke_configs: dict[tuple[str, str], InvokeConfig] = field(default_factory=dict)
    """(function logical id, qualifier: ``$LATEST``, a version number or an alias name) -> its settings."""
    event_sources: list[SqsEventSource] = field(default_factory=list)
    stream_sources: list[StreamEventSource] = field(default_factory=list)
    """Kinesis and DynamoDB stream event source mappings."""
    state_machines: dict[str, str] = field(default_factory=dict)
    """Logical id -> state machine ARN."""
    express: set[str] = field(default_factory=set)
    """Logical ids of the Express state machines (they send no execution status events)."""
    endpoints: dict[str, str] = field(default_factory=dict)
    """Logical id -> SageMaker endpoint name."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Logical id -> resource type, for resources with no local behaviour."""
    warnings: list[str] = field(default_factory=list)
    temporary_dirs: list[Path] = field(default_factory=list)
    """Folders made for inline code: removed when the kit stops."""
    layers: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    """Layer version ARN -> the folders the Python runtime adds to the import path."""
    batch_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Logical id of an ``s3control:CreateJob`` custom resource -> the job's CreateJob parameters (and JobId)."""
    resolve: Callable[[Any], Any] = field(default=lambda value: value)
    """Resolves intrinsic functions of the template against what was made."""

    # -- lookups -------------------------------------------------------------------------------------------------
    def logical_id(self, name: str, *, of_type: str | Iterable[str] | None = None) -> str:
        """The logical id of ``name``: a logical id, or a construct path (``Worker/Function``) or its last part."""
        wanted = {of_type} if isinstance(of_type, str) else set(of_type or [])
        resources: Mapping[str, Any] = self.stack.template.get("Resources", {})
        candidates = [lid for lid in resources if not wanted or resources[lid].get("Type") in wanted]
        if name in candidates:
            return name
        stem = re.sub(r"[^A-Za-z0-9]", "", name)
        exact = [lid for lid in candidates if self.short_name(lid) in (name, stem)]
        if len(exact) == 1:
            return exact[0]
        matches = [lid for lid in candidates if _path_matches(name, self.short_name(lid), lid in self.stack.paths)]
        if len(matches) == 1:
            return matches[0]
        kinds = ", ".join(sorted(wanted)) or "resource"
        if not matches:
            known = ", ".join(sorted(self.short_name(lid) for lid in candidates))
            raise KeyError(f"no {kinds} named {name!r} in stack {self.stack.stack_name}; it has: {known or 'none'}")
        raise KeyError(f"{name!r} names several {kinds}s: {', '.join(sorted(matches))}; use a longer construct path")

    def short_name(self, logical_id: str) -> str:
        """The construct path inside the stack (``Worker/Function``), or the logical id without its hash."""
        if logical_id in self.stack.paths:
            return self.stack.paths[logical_id]
        match = _LOGICAL_ID_HASH.match(logical_id)
        return match["stem"] if match else logical_id

    def function(self, name: str) -> LocalFunction:
        return self.functions[self.logical_id(name, of_type="AWS::Lambda::Function")]

    def invoke_config(self, logical_id: str, qualifier: str = "$LATEST") -> InvokeConfig:
        """The asynchronous invocation settings of one qualifier of a function: each version and alias has its own
        (an alias's settings do not apply to an unqualified invoke), AWS's defaults where none is set."""
        return self.invoke_configs.get((logical_id, qualifier), InvokeConfig())

    def function_by_physical_name(self, function_name: str) -> LocalFunction | None:
        bare = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
        return next((fn for fn in self.functions.values() if fn.name == bare), None)

    def resource_by_physical(self, value: str) -> str | None:
        """The logical id whose ref, ARN or name is ``value`` (how the kit names what a resource received)."""
        for lid, physical in self.physical.items():
            if lid in self.skipped:
                continue
            if value == physical.ref or value in physical.attributes.values():
                return lid
        return None


def stand_up(
    stack: SynthesizedStack,
    *,
    clients: Callable[[str], Any],
    parameters: Mapping[str, str] | None = None,
    imports: Mapping[str, str] | None = None,
    validate_asl: bool = True,
) -> StackResources:
    """Create the stack's resources on moto (which must be active) and return what was made."""
    resources = StackResources(stack=stack)
    template: Mapping[str, Any] = stack.template
    declared: Mapping[str, Any] = template.get("Resources", {})

    def physical(logical_id: str) -> Physical:
        if logical_id not in resources.physical:
            if logical_id not in declared:
                raise TemplateError(f"the template refers to {logical_id!r}, which it does not declare")
            raise TemplateError(f"{logical_id} is referred to before it is made (a dependency cycle?)")
        return resources.physical[logical_id]

    resolver = Resolver(
        template,
        physical=physical,
        pseudo={
            "AWS::AccountId": stack.account,
            "AWS::Region": stack.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{stack.region}:{stack.account}:stack/{stack.stack_name}/local",
            "AWS::NotificationARNs": "",
        },
        parameters=parameters,
        imports=imports,
    )
    resources.resolve = resolver.resolve
    builder = _Builder(stack, resources, resolver, clients, validate_asl)
    for logical_id in _creation_order(declared):
        resource = declared[logical_id]
        condition = resource.get("Condition")
        if condition is not None and not resolver.condition(str(condition)):
            continue
        if builder.waits_for_state_machines(resource):
            builder.make_state_machines()
        resources.types[logical_id] = str(resource.get("Type"))
        resources.physical[logical_id] = builder.create(logical_id, resource)
    builder.make_state_machines()
    return resources


@dataclass(frozen=True)
class _PendingMachine:
    """A state machine whose name and ARN are given out, to be made on moto."""

    logical_id: str
    name: str
    arn: str
    text: str
    props: Mapping[str, Any]


def _definition_text(props: Mapping[str, Any]) -> str:
    """A state machine's definition as its resolved properties give it, substitutions made."""
    definition = props.get("DefinitionString", props.get("Definition"))
    text = definition if isinstance(definition, str) else json.dumps(definition)
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + key + "}", text_of(value))
    return text


def _creation_order(declared: Mapping[str, Any]) -> list[str]:
    dependencies: dict[str, set[str]] = {}
    for logical_id, resource in declared.items():
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else list(depends_on)
        found = set(references(resource.get("Properties", {}))) | set(depends_on)
        dependencies[logical_id] = {dep for dep in found if dep in declared and dep != logical_id}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(logical_id: str, trail: tuple[str, ...]) -> None:
        if state.get(logical_id) == 2:
            return
        if state.get(logical_id) == 1:
            raise TemplateError(f"dependency cycle: {' -> '.join((*trail, logical_id))}")
        state[logical_id] = 1
        for dependency in sorted(dependencies[logical_id]):
            visit(dependency, (*trail, logical_id))
        state[logical_id] = 2
        order.append(logical_id)

    for logical_id in declared:
        visit(logical_id, ())
    return order


class _Builder:
    def __init__(
        self,
        stack: SynthesizedStack,
        resources: StackResources,
        resolver: Resolver,
        clients: Callable[[str], Any],
        validate_asl: bool,
    ) -> None:
        self.stack = stack
        self.resources = resources
        self.resolver = resolver
        self.client = clients
        self.validate_asl = validate_asl
        self.account = stack.account
        self.region = stack.region
        self._role_arn: str | None = None
        self._pending_machines: list[_PendingMachine] = []
        self._creators: dict[str, Callable[[str, dict[str, Any]], Physical]] = {
            "AWS::SQS::Queue": self._queue,
            "AWS::Kinesis::Stream": self._stream,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._rule,
            "AWS::DynamoDB::Table": self._table,
            "AWS::DynamoDB::GlobalTable": self._table,
            "AWS::S3::Bucket": self._bucket,
            "Custom::S3BucketNotifications": self._bucket_notifications,
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::LayerVersion": self._layer,
            "AWS::Lambda::Version": self._version,
            "AWS::Lambda::Alias": self._alias,
            "AWS::Lambda::EventInvokeConfig": self._invoke_config,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::SageMaker::Endpoint": self._endpoint,
            "AWS::SecretsManager::Secret": self._secret,
            "Custom::AWS": self._aws_sdk_call,
        }

    # -- shared --------------------------------------------------------------------------------------------------
    def create(self, logical_id: str, resource: Mapping[str, Any]) -> Physical:
        resource_type = str(resource.get("Type"))
        creator = self._creators.get(resource_type)
        if creator is None:
            self.resources.skipped[logical_id] = resource_type
            return self._placeholder(logical_id, resource_type, resource.get("Properties", {}))
        properties = self.resolver.resolve(resource.get("Properties", {}))
        try:
            return creator(logical_id, properties)
        except (TemplateError, asl.AslValidationError):
            raise
        except Exception as error:
            raise TemplateError(f"the local kit could not make {logical_id} ({resource_type}): {error}") from error

    def name(self, logical_id: str, *, max_length: int, lowercase: bool = False, suffix: str = "") -> str:
        """A stable stand-in for the name CloudFormation would generate: ``<stack>-<logicalId>-<hash>``."""
        digest = hashlib.sha1(f"{self.stack.stack_name}/{logical_id}".encode()).hexdigest()[:12].upper()
        room = max_length - len(digest) - len(suffix) - 2
        stack_part = self.stack.stack_name[: max(1, room // 2)]
        logical_part = logical_id[: max(1, room - len(stack_part))]
        generated = f"{stack_part}-{logical_part}-{digest}{suffix}"
        return generated.lower() if lowercase else generated

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def role_arn(self) -> str:
        if self._role_arn is None:
            iam = self.client("iam")
            try:
                self._role_arn = iam.get_role(RoleName=KIT_ROLE_NAME)["Role"]["Arn"]
            except iam.exceptions.NoSuchEntityException:
                policy = {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
                self._role_arn = iam.create_role(RoleName=KIT_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(policy))[
                    "Role"
                ]["Arn"]
        assert self._role_arn is not None
        return self._role_arn

    def _placeholder(self, logical_id: str, resource_type: str, properties: Mapping[str, Any]) -> Physical:
        name = self.name(logical_id, max_length=64)
        arns = {
            "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{self.account}:policy/{name}",
            "AWS::KMS::Key": self.arn("kms", f"key/{uuid.uuid5(uuid.NAMESPACE_URL, name)}"),
            "AWS::Logs::LogGroup": self.arn("logs", f"log-group:{name}:*"),
            "AWS::SecretsManager::Secret": self.arn("secretsmanager", f"secret:{name}-AbCdEf"),
        }
        service = resource_type.split("::")[1].lower() if resource_type.count("::") == 2 else "custom"
        arn = arns.get(resource_type, self.arn(service, name))
        ref = arn if resource_type in ("AWS::IAM::ManagedPolicy", "AWS::SecretsManager::Secret") else name
        if resource_type == "AWS::KMS::Key":
            ref = arn.rsplit("/", 1)[-1]
        # A resource the kit does not make: any attribute resolves, to a stable placeholder.
        return Physical(ref=ref, attributes=AnyAttributes({"Arn": arn}, lambda attribute: f"{ref}.{attribute}"))

    # -- aws-cdk-lib's AwsCustomResource: the SDK call it would make at deploy time --------------------------
    def _aws_sdk_call(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """Make the ``Create`` call of an ``AwsCustomResource`` on moto; answers become ``Fn::GetAtt`` attributes.

        ``s3control:CreateJob`` is recorded instead (moto has no S3 Batch Operations): ``LocalKit.run_batch_job``
        runs it.
        """
        call = props.get("Create")
        if not call:
            return Physical(ref=self.name(logical_id, max_length=64), attributes={})
        spec = json.loads(call) if isinstance(call, str) else call
        service = str(spec["service"]).removeprefix("@aws-sdk/client-").replace("-", "").lower()
        action = str(spec["action"]).removesuffix("Command")
        parameters = spec.get("parameters") or {}
        if service == "s3control" and action.lower() == "createjob":
            token = str(parameters.get("ClientRequestToken", logical_id))
            job_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack.stack_name}/{token}"))
            self.resources.batch_jobs[logical_id] = {**parameters, "JobId": job_id}
            answer: Any = {"JobId": job_id}
        else:
            method = re.sub(r"(?<!^)(?=[A-Z])", "_", action[0].lower() + action[1:]).lower()
            answer = getattr(self.client(service), method)(**parameters)
        flat = {key: str(value) for key, value in _flatten(answer).items() if not key.startswith("ResponseMetadata")}
        physical_id = spec.get("physicalResourceId") or {}
        ref = (
            physical_id.get("id")
            or flat.get(str(physical_id.get("responsePath")), "")
            or self.name(logical_id, max_length=64)
        )
        return Physical(ref=str(ref), attributes=flat)

    # -- SQS, SNS, EventBridge -----------------------------------------------------------------------------------
    def _queue(self, logical_id: str, props: dict[str, Any]) -> Physical:
        fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        name = props.get("QueueName") or self.name(logical_id, max_length=80, suffix=".fifo" if fifo else "")
        attributes: dict[str, str] = {}
        for key in (
            "FifoQueue",
            "ContentBasedDeduplication",
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "DeduplicationScope",
            "FifoThroughputLimit",
        ):
            if key in props:
                attributes[key] = text_of(props[key])
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                attributes[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.arn("sqs", name)
        return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _stream(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self.name(logical_id, max_length=128)
        mode = props.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
        request: dict[str, Any] = {"StreamName": name, "StreamModeDetails": {"StreamMode": mode}}
        if mode == "PROVISIONED":
            request["ShardCount"] = int(props.get("ShardCount", 1))
        kinesis = self.client("kinesis")
        kinesis.create_stream(**request)
        arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        return Physical(ref=name, attributes={"Arn": arn})

    def _topic(self, logical_id: str, props: dict[str, Any]) -> Physical:
        fifo = str(props.get("FifoTopic", "false")).lower() == "true"
        name = props.get("TopicName") or self.name(logical_id, max_length=256, suffix=".fifo" if fifo else "")
        attributes = {key: text_of(props[key]) for key in ("FifoTopic", "ContentBasedDeduplication") if key in props}
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for subscription in props.get("Subscription", []):
            self.client("sns").subscribe(
                TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"]
            )
        return Physical(ref=arn, attributes={"TopicArn": arn, "TopicName": name})

    def _subscription(self, logical_id: str, props: dict[str, Any]) -> Physical:
        attributes: dict[str, str] = {}
        for key in ("RawMessageDelivery", "FilterPolicyScope"):
            if key in props:
                attributes[key] = text_of(props[key])
        for key in ("FilterPolicy", "RedrivePolicy"):
            if key in props:
                attributes[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
        arn = self.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return Physical(ref=arn, attributes={"Arn": arn})

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props["Name"]
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        return Physical(ref=name, attributes={"Arn": arn, "Name": name})

    def _rule(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self.name(logical_id, max_length=64)
        bus = str(props.get("EventBusName", "default")).rsplit("/", 1)[-1]
        rule: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            rule["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        if "ScheduleExpression" in props:
            rule["ScheduleExpression"] = props["ScheduleExpression"]
            self.resources.warnings.append(
                f"{logical_id}: schedule {props['ScheduleExpression']} does not fire by itself; use kit.fire_rule()"
            )
        events = self.client("events")
        arn = events.put_rule(**rule)["RuleArn"]
        targets = [
            {key: value for key, value in target.items() if key in _TARGET_KEYS} for target in props.get("Targets", [])
        ]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        ref = name if bus == "default" else f"{bus}|{name}"
        return Physical(ref=ref, attributes={"Arn": arn})

    # -- DynamoDB, S3 --------------------------------------------------------------------------------------------
    def _table(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("TableName") or self.name(logical_id, max_length=255)
        billing = props.get("BillingMode", "PROVISIONED")
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = _numbers(throughput)
        indexes = []
        for index in props.get("GlobalSecondaryIndexes", []):
            kept = {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
            if billing == "PROVISIONED":
                kept["ProvisionedThroughput"] = _numbers(index.get("ProvisionedThroughput", throughput))
            indexes.append(kept)
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        local_indexes = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
            for index in props.get("LocalSecondaryIndexes", [])
        ]
        if local_indexes:
            request["LocalSecondaryIndexes"] = local_indexes
        stream = props.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        description = self.client("dynamodb").create_table(**request)["TableDescription"]
        attributes = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes["StreamArn"] = description["LatestStreamArn"]
        return Physical(ref=name, attributes=attributes)

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("BucketName") or self.name(logical_id, max_length=63, lowercase=True)
        s3 = self.client("s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if props.get("VersioningConfiguration", {}).get("Status"):
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
            )
        if props.get("NotificationConfiguration"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=_notification_configuration(props["NotificationConfiguration"])
            )
        return Physical(
            ref=name,
            attributes={
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{self.region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{self.region}.amazonaws.com",
            },
        )

    def _bucket_notifications(self, logical_id: str, props: dict[str, Any]) -> Physical:
        # Keep empty entries that mean something: EventBridgeConfiguration {} turns EventBridge delivery on.
        configuration = {
            key: value
            for key, value in props["NotificationConfiguration"].items()
            if value or key == "EventBridgeConfiguration"
        }
        self.client("s3").put_bucket_notification_configuration(
            Bucket=props["BucketName"], NotificationConfiguration=configuration
        )
        return Physical(ref=f"{props['BucketName']}-notifications", attributes={})

    # -- Lambda --------------------------------------------------------------------------------------------------
    def _function(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("FunctionName") or self.name(logical_id, max_length=64)
        runtime = str(props.get("Runtime", "image" if props.get("PackageType") == "Image" else "unknown"))
        code_dirs: tuple[Path, ...] = ()
        code = props.get("Code", {})
        if "ZipFile" in code:
            inline = Path(_inline_dir(logical_id))
            self.resources.temporary_dirs.append(inline)
            # CloudFormation puts inline code in a file named index (index.py): the handler names it, or a module
            # of a layer that imports it (a wrapper such as SlackErrorReporter's).
            (inline / "index.py").write_text(str(code["ZipFile"]))
            code_dirs = (inline,)
        elif runtime.startswith("python"):
            try:
                code_dirs = (self.stack.asset_dir(code, where=f"function {logical_id}"),)
            except TemplateError as error:
                self.resources.warnings.append(f"{error}; invoking it fails")
        for layer_arn in props.get("Layers", []):
            if layer_arn in self.resources.layers:
                code_dirs = (*code_dirs, *self.resources.layers[layer_arn])
            else:
                self.resources.warnings.append(f"{logical_id}: layer {layer_arn} is not in this stack; not loaded")
        warn_if_cannot_stand_in(runtime)
        environment = {key: text_of(value) for key, value in props.get("Environment", {}).get("Variables", {}).items()}
        request: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": runtime
            if runtime.startswith(("python", "nodejs", "java", "dotnet", "ruby", "provided"))
            else "python3.12",
            "Role": self.role_arn(),
            "Handler": str(props.get("Handler", "index.handler")),
            "Code": {"ZipFile": _empty_zip()},
            "Timeout": int(props.get("Timeout", 3)),
            "MemorySize": int(props.get("MemorySize", 128)),
            "Environment": {"Variables": environment},
        }
        if props.get("Architectures"):
            request["Architectures"] = props["Architectures"]
        arn = self.client("lambda").create_function(**request)["FunctionArn"]
        durable = props.get("DurableConfig")
        self.resources.functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=request["Handler"],
            code_dirs=code_dirs,
            environment=environment,
            runtime=runtime,
            timeout_seconds=float(request["Timeout"]),
            memory_mb=request["MemorySize"],
            region=self.region,
            dead_letter_arn=props.get("DeadLetterConfig", {}).get("TargetArn"),
            role_arn=text_of(props.get("Role", "")),
            reserved_concurrency=(
                int(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
            ),
            durable=None
            if not durable
            else DurableSettings(
                execution_timeout_seconds=int(durable.get("ExecutionTimeout", 86400)),
                retention_days=int(durable.get("RetentionPeriodInDays", 14)),
            ),
            # The kit's in-process durable service and the handler share the SDK's classes.
            shared_modules=frozenset({DURABLE_SDK}) if durable else frozenset(),
            architecture=str((request.get("Architectures") or ["x86_64"])[0]),
        )
        return Physical(ref=name, attributes={"Arn": arn})

    def _layer(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("LayerName") or self.name(logical_id, max_length=64)
        arn = self.arn("lambda", f"layer:{name}:1")
        root = self.stack.asset_dir(props.get("Content", {}), where=f"layer {logical_id}")
        folders = [root / "python", *sorted((root / "python" / "lib").glob("python3*/site-packages"))]
        present = tuple(folder for folder in folders if folder.is_dir())
        if not present:
            self.resources.warnings.append(
                f"{logical_id}: the layer has no python/ folder, so the Python runtime would not import from it"
            )
        self.resources.layers[arn] = present
        return Physical(ref=arn, attributes={"LayerVersionArn": arn})

    def _version(self, logical_id: str, props: dict[str, Any]) -> Physical:
        answer = self.client("lambda").publish_version(FunctionName=props["FunctionName"])
        return Physical(
            ref=answer["FunctionArn"], attributes={"Version": answer["Version"], "FunctionArn": answer["FunctionArn"]}
        )

    def _alias(self, logical_id: str, props: dict[str, Any]) -> Physical:
        answer = self.client("lambda").create_alias(
            FunctionName=props["FunctionName"], Name=props["Name"], FunctionVersion=str(props["FunctionVersion"])
        )
        return Physical(ref=answer["AliasArn"], attributes={"AliasArn": answer["AliasArn"]})

    def _invoke_config(self, logical_id: str, props: dict[str, Any]) -> Physical:
        function = self.resources.function_by_physical_name(str(props["FunctionName"]))
        destinations = props.get("DestinationConfig", {})
        config = InvokeConfig(
            max_retries=int(props.get("MaximumRetryAttempts", 2)),
            max_event_age_seconds=int(props.get("MaximumEventAgeInSeconds", 21600)),
            on_success=destinations.get("OnSuccess", {}).get("Destination"),
            on_failure=destinations.get("OnFailure", {}).get("Destination"),
        )
        if function is None:
            self.resources.warnings.append(f"{logical_id}: function {props['FunctionName']} is not in this stack")
        else:
            qualifier = text_of(props.get("Qualifier", "$LATEST"))
            self.resources.invoke_configs[(function.logical_id, qualifier)] = config
        return Physical(ref=f"{props['FunctionName']}-invoke-config", attributes={})

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> Physical:
        source = str(props.get("EventSourceArn", ""))
        function = self.resources.function_by_physical_name(str(props["FunctionName"]))
        mapping_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack.stack_name}/{logical_id}"))
        stream = source.startswith("arn:aws:kinesis:") or (
            source.startswith("arn:aws:dynamodb:") and "/stream/" in source
        )
        if stream and function is not None:
            if str(props.get("Enabled", "true")).lower() != "false":
                self.resources.stream_sources.append(
                    StreamEventSource(
                        function=function.logical_id,
                        stream_arn=source,
                        kind="kinesis" if source.startswith("arn:aws:kinesis:") else "dynamodb",
                        mapping_id=mapping_id,
                        batch_size=int(props.get("BatchSize", 100)),
                        bisect=str(props.get("BisectBatchOnFunctionError", "false")).lower() == "true",
                        max_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                        max_record_age=int(props.get("MaximumRecordAgeInSeconds", -1)),
                        on_failure=props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
                        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    )
                )
            return Physical(ref=mapping_id, attributes={"Id": mapping_id})
        if not source.startswith("arn:aws:sqs:") or function is None:
            self.resources.warnings.append(
                f"{logical_id}: only SQS event sources of this stack's functions are polled locally ({source})"
            )
            return Physical(ref=mapping_id, attributes={"Id": mapping_id})
        if str(props.get("Enabled", "true")).lower() == "false":
            return Physical(ref=mapping_id, attributes={"Id": mapping_id})
        from moto.events.models import EventPattern

        filters = tuple(
            EventPattern.load(entry["Pattern"]) for entry in props.get("FilterCriteria", {}).get("Filters", [])
        )
        queue_name = source.rsplit(":", 1)[-1]
        self.resources.event_sources.append(
            SqsEventSource(
                function=function.logical_id,
                queue_url=self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"],
                queue_arn=source,
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                filters=filters,
            )
        )
        return Physical(
            ref=mapping_id,
            attributes={
                "Id": mapping_id,
                "EventSourceMappingArn": self.arn("lambda", f"event-source-mapping:{mapping_id}"),
            },
        )

    # -- Step Functions, SageMaker -------------------------------------------------------------------------------
    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """A state machine, made when something refers to it or the stack is made (``make_state_machines``)."""
        name = props.get("StateMachineName") or self.name(logical_id, max_length=80)
        arn = self.arn("states", f"stateMachine:{name}")  # as moto names it (checked when it is made)
        self._pending_machines.append(_PendingMachine(logical_id, name, arn, _definition_text(props), props))
        return Physical(ref=arn, attributes={"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"})

    def waits_for_state_machines(self, resource: Mapping[str, Any]) -> bool:
        """Whether ``resource`` is one the kit makes on moto (not a stand-in: those only take the names and ARNs
        given out) and refers to (or depends on) a state machine not made yet."""
        if not self._pending_machines or str(resource.get("Type")) not in self._creators:
            return False
        depends_on = resource.get("DependsOn", [])
        named = set(references(resource.get("Properties", {}))) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on
        )
        return any(machine.logical_id in named for machine in self._pending_machines)

    def make_state_machines(self) -> None:
        """Make the state machines not made yet, in their order, each checked with asl-validator first."""
        pending, self._pending_machines = self._pending_machines, []
        for machine in pending:
            try:
                if self.validate_asl:
                    asl.validate_definition_text(machine.text, name=f"state machine {machine.logical_id}")
                self._make_state_machine(machine)
            except (TemplateError, asl.AslValidationError):
                raise
            except Exception as error:
                raise TemplateError(
                    f"the local kit could not make {machine.logical_id} (AWS::StepFunctions::StateMachine): {error}"
                ) from error

    def _make_state_machine(self, machine: _PendingMachine) -> None:
        props = machine.props
        # The template's role, which moto gives each task as the role it runs with (moto checks only its shape).
        role = text_of(props.get("RoleArn", ""))
        arn = self.client("stepfunctions").create_state_machine(
            name=machine.name,
            definition=machine.text,
            roleArn=role if _ROLE_ARN.match(role) else self.role_arn(),
            type=props.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        if arn != machine.arn:
            raise TemplateError(f"{machine.logical_id}: moto named it {arn}, the kit expected {machine.arn}")
        self.resources.state_machines[machine.logical_id] = arn
        self.resources.express.discard(machine.logical_id)
        if props.get("StateMachineType") == "EXPRESS":
            self.resources.express.add(machine.logical_id)

    def _endpoint(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("EndpointName") or self.name(logical_id, max_length=63)
        self.resources.endpoints[logical_id] = name
        arn = self.arn("sagemaker", f"endpoint/{name.lower()}")
        return Physical(ref=arn, attributes={"EndpointName": name})

    # -- Secrets Manager -----------------------------------------------------------------------------------------
    def _secret(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """A secret with its value, or a generated one (a test puts the real value with ``put_secret_value``)."""
        name = props.get("Name") or self.name(logical_id, max_length=64)
        value = props.get("SecretString")
        if value is None:
            generate = props.get("GenerateSecretString", {})
            generated = secrets.token_urlsafe(24)
            template = generate.get("SecretStringTemplate")
            if template and generate.get("GenerateStringKey"):
                value = json.dumps({**json.loads(template), generate["GenerateStringKey"]: generated})
            else:
                value = generated
        request = {"Name": name, "SecretString": text_of(value)}
        if props.get("Description"):
            request["Description"] = str(props["Description"])
        arn = self.client("secretsmanager").create_secret(**request)["ARN"]
        return Physical(ref=arn, attributes={"Id": arn})


_TARGET_KEYS = {
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "DeadLetterConfig",
    "RetryPolicy",
    "SqsParameters",
    "KinesisParameters",
}


def _notification_configuration(cfn: Mapping[str, Any]) -> dict[str, Any]:
    """S3 ``NotificationConfiguration`` from the CloudFormation shape to the API shape."""

    def converted(entries: list[Mapping[str, Any]], target: str, api_target: str) -> list[dict[str, Any]]:
        result = []
        for entry in entries:
            item: dict[str, Any] = {api_target: entry[target], "Events": [entry["Event"]]}
            rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
            if rules:
                item["Filter"] = {"Key": {"FilterRules": rules}}
            result.append(item)
        return result

    api: dict[str, Any] = {}
    if cfn.get("QueueConfigurations"):
        api["QueueConfigurations"] = converted(cfn["QueueConfigurations"], "Queue", "QueueArn")
    if cfn.get("TopicConfigurations"):
        api["TopicConfigurations"] = converted(cfn["TopicConfigurations"], "Topic", "TopicArn")
    if cfn.get("LambdaConfigurations"):
        api["LambdaFunctionConfigurations"] = converted(cfn["LambdaConfigurations"], "Function", "LambdaFunctionArn")
    if cfn.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled") in (True, "true"):
        api["EventBridgeConfiguration"] = {}
    return api


def _path_matches(name: str, short: str, has_path: bool) -> bool:
    """Whether ``name`` is the end of the resource's construct path (or, without a path, of its logical id)."""
    if has_path:
        return short == name or short.endswith("/" + name)
    return short.endswith(re.sub(r"[^A-Za-z0-9]", "", name))


def _numbers(throughput: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in throughput.items()}


def _empty_zip() -> bytes:
    global _EMPTY_ZIP  # noqa: PLW0603 - built once per process
    if _EMPTY_ZIP is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("README.txt", "The local kit runs this function from its asset folder.\n")
        _EMPTY_ZIP = buffer.getvalue()
    return _EMPTY_ZIP


def _inline_dir(logical_id: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=f"local-kit-{logical_id[:20]}-")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b.0": 1}``: how AwsCustomResource names the fields of an SDK answer."""
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: value} if prefix else {}
    flat: dict[str, Any] = {}
    for key, inner in items:
        flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return flat
