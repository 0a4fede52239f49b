"""The orchestrated-lambda example: functions orchestrated by Step Functions, what Lambda Destinations cannot do.

Classify (retry OrderPendingError, backoff 2.0) -> Choice on foo:
    foo == 1 -> HandleSingle
    foo == 2 -> Parallel(ReserveStock, Charge)
-> success; any failure -> the record on an encrypted SQS queue (the execution ends FAILED).
FAILED / TIMED_OUT execution status changes -> an encrypted SNS topic.

``query_language`` picks the states' language (JSONPath by default, or JSONata); the consumers receive the same
records from either.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib import (
    Choice,
    ExecutionStatus,
    FunctionWorkflow,
    Invoke,
    Parallel,
    QueueRoute,
    RetryRule,
    TopicRoute,
)
from constructs_lib.defaults import secure_function
from stacks._alerts import alarm_topic, to_deployer
from stacks._code import example_code

RUNTIME = lambda_.Runtime.PYTHON_3_14


def foo_equals(value: int, language: sfn.QueryLanguage) -> sfn.Condition:
    """``foo == value`` in the workflow's query language."""
    if language == sfn.QueryLanguage.JSONATA:
        return sfn.Condition.jsonata(f"{{% $states.input.foo = {value} %}}")
    return sfn.Condition.number_equals("$.foo", value)


class OrchestratedLambdaStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        query_language: sfn.QueryLanguage = sfn.QueryLanguage.JSON_PATH,
        **kwargs: Any,
    ) -> None:
        """:param query_language: the workflow's query language, JSONPath (default) or JSONata."""
        super().__init__(scope, construct_id, **kwargs)
        code = example_code("orchestrated_lambda")
        self.alarm_topic = alarm_topic(self)

        def step_function(construct_id: str, handler: str) -> lambda_.IFunction:
            props = lambda_.FunctionProps(
                runtime=RUNTIME, handler=f"steps.{handler}", code=code, timeout=Duration.seconds(10)
            )
            function, _ = secure_function(self, construct_id, function_props=props)
            return function

        classify = step_function("Classify", "classify")
        single = step_function("HandleSingle", "handle_single")
        stock = step_function("ReserveStock", "reserve_stock")
        charge = step_function("Charge", "charge")

        pending = RetryRule(
            errors=["OrderPendingError"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2.0
        )
        self.workflow = FunctionWorkflow(
            self,
            "Orders",
            query_language=query_language,
            steps=[
                Invoke("Classify", classify, retries=[pending]),
                Choice(
                    "RouteOnFoo",
                    branches=[
                        (foo_equals(1, query_language), [Invoke("HandleSingle", single)]),
                        (
                            foo_equals(2, query_language),
                            [
                                Parallel(
                                    "HandleSeveral",
                                    branches=[[Invoke("ReserveStock", stock)], [Invoke("Charge", charge)]],
                                )
                            ],
                        ),
                    ],
                ),
            ],
            on_failure=QueueRoute(),
            timeout=Duration.minutes(5),
        )
        self.alerts = self.workflow.notify_on(
            "FailureAlerts", statuses=[ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT], route=TopicRoute()
        )
        assert self.alerts.route.topic is not None
        to_deployer(self, self.alerts.route.topic, "FailureAlertsTopic", "Every failed or timed-out order execution")
