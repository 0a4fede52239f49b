"""The durable-orders example: the order flow of DestinedLambda / OrchestratedLambda as a Lambda durable function.

SNS (encrypted) --async--> Orders (durable function, alias live):
    AuthorizePayment (retried on OrderPendingError with backoff) -> REVIEW ends here | ACCEPTED:
    CoolingOff (a durable wait, 1 day by default) -> Fulfil: ReserveStock || Charge
  --success record--> custom event bus --rule: status == ACCEPTED--> consumer (DestinedLambda's)
                                      --rule: status == REVIEW--> review queue
  --failure record--> encrypted SQS queue (+ alarm); a timed-out or stopped execution's record comes from its
    status-change event (default bus, rule, the library's status function) to the same queue; the events of failed,
    timed-out or stopped executions also land in the function's dead-letter queue (Lambda sends them there for
    asynchronous invocations)
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_lambda_event_sources import SnsEventSource
from constructs import Construct

from constructs_lib import (
    Condition,
    DestinedFunction,
    DurableFunction,
    EventBusRoute,
    FunctionRoute,
    QueueRoute,
)
from constructs_lib.defaults import secure_queue, secure_topic
from stacks._alerts import alarm_topic
from stacks._code import example_code

RUNTIME = lambda_.Runtime.PYTHON_3_14
EXECUTION_TIMEOUT = Duration.days(3)
"""How long one order may take, its cooling-off period included: an order asking for more times out."""


class DurableOrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alarm_topic = alarm_topic(self)
        self.orders_topic = secure_topic(self, "OrdersTopic")

        # The same consumer as DestinedLambda's: a switch of engine does not change who receives the results.
        self.consumer = DestinedFunction(
            self,
            "Consumer",
            function_props=lambda_.FunctionProps(
                runtime=RUNTIME,
                handler="consumer.handler",
                code=example_code("destined_lambda"),
                timeout=Duration.seconds(10),
                description="Fulfils accepted orders",
            ),
            on_failure=QueueRoute(),
        )

        self.orders = DurableFunction(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=RUNTIME,
                handler="handler.handler",
                code=example_code("durable_orders"),
                # One invocation (a replay up to the next wait) is short; the execution may last days.
                timeout=Duration.seconds(30),
                description="Decides and fulfils orders as a durable execution; results through durable_routes",
            ),
            on_success=EventBusRoute(),
            on_failure=QueueRoute(),
            execution_timeout=EXECUTION_TIMEOUT,
        )
        self.accepted_rule = self.orders.add_result_rule(
            "AcceptedOrders",
            route=FunctionRoute(self.consumer.function),
            conditions=[Condition.SUCCESS],
            response={"status": ["ACCEPTED"]},
            message=events.RuleTargetInput.from_event_path("$.detail.responsePayload"),
        )
        self.review_queue, _ = secure_queue(self, "ReviewQueue")
        self.review_rule = self.orders.add_result_rule(
            "ReviewOrders",
            route=QueueRoute(self.review_queue),
            conditions=[Condition.SUCCESS],
            response={"status": ["REVIEW"]},
            message=events.RuleTargetInput.from_event_path("$.detail.responsePayload"),
        )
        CfnOutput(self, "ReviewQueueUrl", value=self.review_queue.queue_url, description="Orders waiting for review")

        # SNS invokes the alias asynchronously (a durable execution needs a qualified ARN); what SNS cannot deliver
        # lands in a DLQ, so nothing is lost.
        subscription_dlq, _ = secure_queue(
            self, "OrdersSubscriptionDeadLetterQueue", dead_letter_for="the durable function's SNS subscription"
        )
        self.orders.add_event_source(SnsEventSource(self.orders_topic, dead_letter_queue=subscription_dlq))
