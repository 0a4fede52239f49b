"""AWS CDK constructs for event-driven serverless workflows.

The public API is re-exported here. Names that need ``aws_cdk`` are loaded on first use, so that the
standard-library-only runtime module :mod:`constructs_lib.records` can be imported in a Lambda handler without
``aws_cdk`` installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from constructs_lib.records import (
    Condition,
    DynamoDbStreamBatchInfo,
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStatusChange,
    KinesisBatchInfo,
    RecordFormatError,
    RequestContext,
    ResponseContext,
    StreamBatchInfo,
    StreamFailureCondition,
    StreamFailureRecord,
    StreamRequestContext,
    parse_execution_record,
    parse_record,
    parse_stream_failure_record,
)

# The one place the version is written: the build reads it from here.
__version__ = "0.1.0"
"""The package version."""

if TYPE_CHECKING:
    from constructs_lib._internal.alarms import AlarmActions, AlarmOptions
    from constructs_lib._internal.nag import (
        acknowledge_unrotated_secret,
        acknowledge_wildcard_resources,
        allow_unscoped_actions,
    )
    from constructs_lib._internal.validation import ConstructPropsError
    from constructs_lib.defaults import (
        handler_code,
        secure_bucket,
        secure_event_bus,
        secure_function,
        secure_key,
        secure_queue,
        secure_topic,
    )
    from constructs_lib.engines.destined_function import AsyncAlarmOptions, DestinedFunction, StreamFailureOptions
    from constructs_lib.engines.durable_function import DurableAlarmOptions, DurableFunction
    from constructs_lib.engines.function_workflow import FunctionWorkflow, StartMode, WorkflowAlarmOptions
    from constructs_lib.engines.steps import (
        Choice,
        Deliver,
        Fail,
        ForEach,
        Invoke,
        Parallel,
        Pass,
        RetryRule,
        ServiceTask,
        Step,
        Succeed,
        Wait,
    )
    from constructs_lib.events.event_pipeline import EventPipeline
    from constructs_lib.events.execution_status_notifications import (
        ExecutionStatusNotifications,
        execution_status_pattern,
    )
    from constructs_lib.events.patterns import destination_event_pattern, result_event_pattern
    from constructs_lib.routes import (
        BoundRoute,
        BucketRoute,
        DestinationOptions,
        DurableDelivery,
        DurableDeliveryOptions,
        EventBusRoute,
        FunctionRoute,
        QueueRoute,
        Route,
        RouteSide,
        RuleTargetOptions,
        StateMachineRoute,
        StreamRoute,
        TopicRoute,
        WorkflowTaskOptions,
    )
    from constructs_lib.workloads.defect_detection.defect_detection_pipeline import (
        DefectDetectionPipeline,
        DefectEndpoint,
        Ingestion,
    )
    from constructs_lib.workloads.power_tuning.power_tuning import PowerTuning
    from constructs_lib.workloads.python_dependency_layer import LayerBuildError, PythonDependencyLayer
    from constructs_lib.workloads.s3_batch.s3_batch_lambda_job import (
        BatchManifest,
        InvocationSchema,
        ReportScope,
        S3BatchLambdaJob,
    )
    from constructs_lib.workloads.slack.slack_error_reporter import SlackErrorReporter, SlackWebhook
    from constructs_lib.workloads.slack.slack_notifier import SlackNotifier

_LAZY: dict[str, str] = {
    "AlarmActions": "constructs_lib._internal.alarms",
    "AlarmOptions": "constructs_lib._internal.alarms",
    "ConstructPropsError": "constructs_lib._internal.validation",
    "acknowledge_unrotated_secret": "constructs_lib._internal.nag",
    "allow_unscoped_actions": "constructs_lib._internal.nag",
    "handler_code": "constructs_lib.defaults",
    "secure_bucket": "constructs_lib.defaults",
    "secure_event_bus": "constructs_lib.defaults",
    "secure_function": "constructs_lib.defaults",
    "secure_key": "constructs_lib.defaults",
    "secure_queue": "constructs_lib.defaults",
    "secure_topic": "constructs_lib.defaults",
    "acknowledge_wildcard_resources": "constructs_lib._internal.nag",
    "AsyncAlarmOptions": "constructs_lib.engines.destined_function",
    "DestinedFunction": "constructs_lib.engines.destined_function",
    "DurableAlarmOptions": "constructs_lib.engines.durable_function",
    "DurableFunction": "constructs_lib.engines.durable_function",
    "StreamFailureOptions": "constructs_lib.engines.destined_function",
    "destination_event_pattern": "constructs_lib.events.patterns",
    "result_event_pattern": "constructs_lib.events.patterns",
    "EventPipeline": "constructs_lib.events.event_pipeline",
    "StateMachineRoute": "constructs_lib.routes",
    "StreamRoute": "constructs_lib.routes",
    "ExecutionStatusNotifications": "constructs_lib.events.execution_status_notifications",
    "execution_status_pattern": "constructs_lib.events.execution_status_notifications",
    "FunctionWorkflow": "constructs_lib.engines.function_workflow",
    "StartMode": "constructs_lib.engines.function_workflow",
    "WorkflowAlarmOptions": "constructs_lib.engines.function_workflow",
    "Choice": "constructs_lib.engines.steps",
    "Deliver": "constructs_lib.engines.steps",
    "ForEach": "constructs_lib.engines.steps",
    "Invoke": "constructs_lib.engines.steps",
    "Parallel": "constructs_lib.engines.steps",
    "RetryRule": "constructs_lib.engines.steps",
    "Step": "constructs_lib.engines.steps",
    "ServiceTask": "constructs_lib.engines.steps",
    "Fail": "constructs_lib.engines.steps",
    "Pass": "constructs_lib.engines.steps",
    "Succeed": "constructs_lib.engines.steps",
    "Wait": "constructs_lib.engines.steps",
    "DefectDetectionPipeline": "constructs_lib.workloads.defect_detection.defect_detection_pipeline",
    "DefectEndpoint": "constructs_lib.workloads.defect_detection.defect_detection_pipeline",
    "Ingestion": "constructs_lib.workloads.defect_detection.defect_detection_pipeline",
    "PowerTuning": "constructs_lib.workloads.power_tuning.power_tuning",
    "LayerBuildError": "constructs_lib.workloads.python_dependency_layer",
    "PythonDependencyLayer": "constructs_lib.workloads.python_dependency_layer",
    "SlackErrorReporter": "constructs_lib.workloads.slack.slack_error_reporter",
    "SlackWebhook": "constructs_lib.workloads.slack.slack_error_reporter",
    "SlackNotifier": "constructs_lib.workloads.slack.slack_notifier",
    "BatchManifest": "constructs_lib.workloads.s3_batch.s3_batch_lambda_job",
    "InvocationSchema": "constructs_lib.workloads.s3_batch.s3_batch_lambda_job",
    "ReportScope": "constructs_lib.workloads.s3_batch.s3_batch_lambda_job",
    "S3BatchLambdaJob": "constructs_lib.workloads.s3_batch.s3_batch_lambda_job",
    "BoundRoute": "constructs_lib.routes",
    "BucketRoute": "constructs_lib.routes",
    "DestinationOptions": "constructs_lib.routes",
    "DurableDelivery": "constructs_lib.routes",
    "DurableDeliveryOptions": "constructs_lib.routes",
    "RuleTargetOptions": "constructs_lib.routes",
    "WorkflowTaskOptions": "constructs_lib.routes",
    "EventBusRoute": "constructs_lib.routes",
    "FunctionRoute": "constructs_lib.routes",
    "QueueRoute": "constructs_lib.routes",
    "Route": "constructs_lib.routes",
    "RouteSide": "constructs_lib.routes",
    "TopicRoute": "constructs_lib.routes",
}

__all__ = [
    "AlarmActions",
    "AlarmOptions",
    "AsyncAlarmOptions",
    "BatchManifest",
    "BoundRoute",
    "BucketRoute",
    "Choice",
    "Condition",
    "ConstructPropsError",
    "DefectDetectionPipeline",
    "DefectEndpoint",
    "Deliver",
    "DestinationOptions",
    "DestinedFunction",
    "DurableAlarmOptions",
    "DurableDelivery",
    "DurableDeliveryOptions",
    "DurableFunction",
    "DynamoDbStreamBatchInfo",
    "EventBusRoute",
    "EventPipeline",
    "ExecutionRecord",
    "ExecutionStatus",
    "ExecutionStatusChange",
    "ExecutionStatusNotifications",
    "Fail",
    "ForEach",
    "FunctionRoute",
    "FunctionWorkflow",
    "Ingestion",
    "InvocationSchema",
    "Invoke",
    "KinesisBatchInfo",
    "LayerBuildError",
    "Parallel",
    "Pass",
    "PowerTuning",
    "PythonDependencyLayer",
    "QueueRoute",
    "RecordFormatError",
    "ReportScope",
    "RequestContext",
    "ResponseContext",
    "RetryRule",
    "Route",
    "RouteSide",
    "RuleTargetOptions",
    "S3BatchLambdaJob",
    "ServiceTask",
    "SlackErrorReporter",
    "SlackNotifier",
    "SlackWebhook",
    "StartMode",
    "StateMachineRoute",
    "Step",
    "StreamBatchInfo",
    "StreamFailureCondition",
    "StreamFailureOptions",
    "StreamFailureRecord",
    "StreamRequestContext",
    "StreamRoute",
    "Succeed",
    "TopicRoute",
    "Wait",
    "WorkflowAlarmOptions",
    "WorkflowTaskOptions",
    "acknowledge_unrotated_secret",
    "acknowledge_wildcard_resources",
    "allow_unscoped_actions",
    "destination_event_pattern",
    "execution_status_pattern",
    "handler_code",
    "parse_execution_record",
    "parse_record",
    "parse_stream_failure_record",
    "result_event_pattern",
    "secure_bucket",
    "secure_event_bus",
    "secure_function",
    "secure_key",
    "secure_queue",
    "secure_topic",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
