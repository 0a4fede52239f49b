"""The destined-lambda example: an order worker wired with Lambda Destinations.

SNS (encrypted) --async--> worker --success--> custom event bus --rule: status == ACCEPTED--> consumer
                                                                 --rule: status == REVIEW--> review queue
                                  --failure--> encrypted SQS queue (+ alarm)
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib import (
    Condition,
    DestinedFunction,
    EventBusRoute,
    FunctionRoute,
    QueueRoute,
)
from constructs_lib.defaults import secure_queue, secure_topic
from stacks._alerts import alarm_topic
from stacks._code import example_code

RUNTIME = lambda_.Runtime.PYTHON_3_14


class DestinedLambdaStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        code = example_code("destined_lambda")

        def function_props(handler: str, description: str) -> lambda_.FunctionProps:
            return lambda_.FunctionProps(
                runtime=RUNTIME, handler=handler, code=code, timeout=Duration.seconds(10), description=description
            )

        self.alarm_topic = alarm_topic(self)
        self.orders_topic = secure_topic(self, "OrdersTopic")

        self.consumer = DestinedFunction(
            self,
            "Consumer",
            function_props=function_props("consumer.handler", "Fulfils accepted orders"),
            on_failure=QueueRoute(),
        )

        self.worker = DestinedFunction(
            self,
            "Worker",
            function_props=function_props("worker.handler", "Decides orders; results go through Lambda Destinations"),
            on_success=EventBusRoute(),
            on_failure=QueueRoute(),
            retry_attempts=2,
            max_event_age=Duration.hours(1),
        )
        self.accepted_rule = self.worker.add_result_rule(
            "AcceptedOrders",
            route=FunctionRoute(self.consumer.function),
            conditions=[Condition.SUCCESS],
            response={"status": ["ACCEPTED"]},
            message=events.RuleTargetInput.from_event_path("$.detail.responsePayload"),
        )
        # Large orders wait on a queue for someone to review them (its age alarm says when one waits too long).
        self.review_queue, _ = secure_queue(self, "ReviewQueue")
        self.review_rule = self.worker.add_result_rule(
            "ReviewOrders",
            route=QueueRoute(self.review_queue),
            conditions=[Condition.SUCCESS],
            response={"status": ["REVIEW"]},
            message=events.RuleTargetInput.from_event_path("$.detail.responsePayload"),
        )
        CfnOutput(self, "ReviewQueueUrl", value=self.review_queue.queue_url, description="Orders waiting for review")

        # SNS invokes the worker asynchronously; what SNS cannot deliver lands in a DLQ, so nothing is lost.
        subscription_dlq, _ = secure_queue(
            self, "OrdersSubscriptionDeadLetterQueue", dead_letter_for="the worker's SNS subscription"
        )
        self.orders_topic.add_subscription(
            subscriptions.LambdaSubscription(self.worker.function, dead_letter_queue=subscription_dlq)
        )
