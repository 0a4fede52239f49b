#!/usr/bin/env python3
"""The example CDK app: every example stack, nothing else."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks._language import query_language
from stacks.defect_detection_stack import DefectDetectionStack
from stacks.destined_lambda_stack import DestinedLambdaStack
from stacks.durable_orders_stack import DurableOrdersStack
from stacks.orchestrated_lambda_stack import OrchestratedLambdaStack
from stacks.power_tuning_stack import PowerTuningStack
from stacks.s3_batch_sentiment_stack import S3BatchSentimentStack
from stacks.slack_error_reporting_stack import SlackErrorReportingStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add every example stack to ``app`` (a new one by default), with cdk-nag's AwsSolutions checks; the workflows
    in the query language of the context value ``queryLanguage`` (JSONPath, the default, or JSONata)."""
    app = app or cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    language = query_language(app)
    DestinedLambdaStack(app, "DestinedLambda", description="Lambda Destinations example (constructs_lib)")
    OrchestratedLambdaStack(
        app, "OrchestratedLambda", description="Step Functions example (constructs_lib)", query_language=language
    )
    DurableOrdersStack(app, "DurableOrders", description="Lambda durable functions example (constructs_lib)")
    DefectDetectionStack(
        app, "DefectDetection", description="AI defect detection example (constructs_lib)", query_language=language
    )
    PowerTuningStack(app, "PowerTuning", description="Lambda Power Tuning example (constructs_lib)")
    S3BatchSentimentStack(
        app,
        "S3BatchSentiment",
        description="S3 Batch Operations sentiment example (constructs_lib)",
    )
    SlackErrorReportingStack(
        app,
        "SlackErrorReporting",
        description="Slack error reporting example (constructs_lib)",
        query_language=language,
    )
    return app


if __name__ == "__main__":
    build_app().synth()
