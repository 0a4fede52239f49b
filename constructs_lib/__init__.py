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
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStatusChange,
    RecordFormatError,
    RequestContext,
    ResponseContext,
    parse_execution_record,
)

__version__ = "0.1.0"
"""The package version: the one source of it (pyproject.toml's [tool.hatch.version] reads it from here)."""

if TYPE_CHECKING:
    from constructs_lib._validation import ConstructPropsError
    from constructs_lib.assets import asset_path, bundled_code
    from constructs_lib.defect_detection import DefectDetectionPipeline, DefectEndpoint, Ingestion
    from constructs_lib.destined_function import AsyncAlarmProps, DestinedFunction, StreamFailureOptions
    from constructs_lib.event_patterns import destination_event_pattern
    from constructs_lib.event_pipeline import EventPipeline
    from constructs_lib.execution_status_notifications import ExecutionStatusNotifications, execution_status_pattern
    from constructs_lib.function_workflow import FunctionWorkflow, StartMode, WorkflowAlarmProps
    from constructs_lib.power_tuning import PowerTuning
    from constructs_lib.python_dependency_layer import LayerBuildError, PythonDependencyLayer
    from constructs_lib.routes import (
        BoundRoute,
        BucketRoute,
        EventBusRoute,
        FunctionRoute,
        QueueRoute,
        Route,
        RouteSide,
        StateMachineRoute,
        StreamRoute,
        TopicRoute,
    )
    from constructs_lib.s3_batch_lambda_job import BatchManifest, InvocationSchema, ReportScope, S3BatchLambdaJob
    from constructs_lib.slack_error_reporter import SlackErrorReporter, SlackWebhook
    from constructs_lib.slack_notifier import SlackNotifier
    from constructs_lib.workflow_steps import Choice, ForEach, Invoke, Parallel, RetryRule, ServiceTask, Step

_LAZY: dict[str, str] = {
    "ConstructPropsError": "constructs_lib._validation",
    "asset_path": "constructs_lib.assets",
    "bundled_code": "constructs_lib.assets",
    "AsyncAlarmProps": "constructs_lib.destined_function",
    "DestinedFunction": "constructs_lib.destined_function",
    "StreamFailureOptions": "constructs_lib.destined_function",
    "destination_event_pattern": "constructs_lib.event_patterns",
    "EventPipeline": "constructs_lib.event_pipeline",
    "StateMachineRoute": "constructs_lib.routes",
    "StreamRoute": "constructs_lib.routes",
    "ExecutionStatusNotifications": "constructs_lib.execution_status_notifications",
    "execution_status_pattern": "constructs_lib.execution_status_notifications",
    "FunctionWorkflow": "constructs_lib.function_workflow",
    "StartMode": "constructs_lib.function_workflow",
    "WorkflowAlarmProps": "constructs_lib.function_workflow",
    "Choice": "constructs_lib.workflow_steps",
    "ForEach": "constructs_lib.workflow_steps",
    "Invoke": "constructs_lib.workflow_steps",
    "Parallel": "constructs_lib.workflow_steps",
    "RetryRule": "constructs_lib.workflow_steps",
    "Step": "constructs_lib.workflow_steps",
    "ServiceTask": "constructs_lib.workflow_steps",
    "DefectDetectionPipeline": "constructs_lib.defect_detection",
    "DefectEndpoint": "constructs_lib.defect_detection",
    "Ingestion": "constructs_lib.defect_detection",
    "PowerTuning": "constructs_lib.power_tuning",
    "LayerBuildError": "constructs_lib.python_dependency_layer",
    "PythonDependencyLayer": "constructs_lib.python_dependency_layer",
    "SlackErrorReporter": "constructs_lib.slack_error_reporter",
    "SlackWebhook": "constructs_lib.slack_error_reporter",
    "SlackNotifier": "constructs_lib.slack_notifier",
    "BatchManifest": "constructs_lib.s3_batch_lambda_job",
    "InvocationSchema": "constructs_lib.s3_batch_lambda_job",
    "ReportScope": "constructs_lib.s3_batch_lambda_job",
    "S3BatchLambdaJob": "constructs_lib.s3_batch_lambda_job",
    "BoundRoute": "constructs_lib.routes",
    "BucketRoute": "constructs_lib.routes",
    "EventBusRoute": "constructs_lib.routes",
    "FunctionRoute": "constructs_lib.routes",
    "QueueRoute": "constructs_lib.routes",
    "Route": "constructs_lib.routes",
    "RouteSide": "constructs_lib.routes",
    "TopicRoute": "constructs_lib.routes",
}

__all__ = [
    "AsyncAlarmProps",
    "BatchManifest",
    "BoundRoute",
    "BucketRoute",
    "Choice",
    "Condition",
    "ConstructPropsError",
    "DefectDetectionPipeline",
    "DefectEndpoint",
    "DestinedFunction",
    "EventBusRoute",
    "EventPipeline",
    "ExecutionRecord",
    "ExecutionStatus",
    "ExecutionStatusChange",
    "ExecutionStatusNotifications",
    "ForEach",
    "FunctionRoute",
    "FunctionWorkflow",
    "Ingestion",
    "InvocationSchema",
    "Invoke",
    "LayerBuildError",
    "Parallel",
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
    "S3BatchLambdaJob",
    "ServiceTask",
    "SlackErrorReporter",
    "SlackNotifier",
    "SlackWebhook",
    "StartMode",
    "StateMachineRoute",
    "Step",
    "StreamFailureOptions",
    "StreamRoute",
    "TopicRoute",
    "WorkflowAlarmProps",
    "asset_path",
    "bundled_code",
    "destination_event_pattern",
    "execution_status_pattern",
    "parse_execution_record",
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
