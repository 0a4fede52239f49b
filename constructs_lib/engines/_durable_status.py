"""The failure record of a durable execution that timed out or was stopped.

Lambda ends such an execution without running the function's code again, so ``routed_durable_execution`` never
delivers its record. Lambda does put a ``Durable Execution Status Change`` event (source ``aws.lambda``) on the
default event bus (https://docs.aws.amazon.com/lambda/latest/dg/durable-monitoring.html): a rule on the
``TIMED_OUT`` and ``STOPPED`` statuses of this function's executions invokes a small function of the library
(``durable_routes.status``, in the durable runtime layer), which reads the execution's input with
``GetDurableExecution`` (the event carries none) and delivers the record (condition ``TimedOut`` or ``Aborted``)
to the failure route, with the same delivery the durable function uses.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.validation import Problems
from constructs_lib.defaults import secure_function, secure_queue
from constructs_lib.routes import (
    BoundRoute,
    DurableDeliveryOptions,
    FunctionRoute,
    RouteSide,
    RuleTargetOptions,
    rule_to_route,
)

STATUS_SOURCE = "aws.lambda"
STATUS_DETAIL_TYPE = "Durable Execution Status Change"
FAILED_STATUSES = ("TIMED_OUT", "STOPPED")
"""The statuses whose record the function's own code cannot deliver (a FAILED execution's code delivers it)."""
READ_ACTIONS = ("lambda:GetDurableExecution",)
# The handler is the layer's: the function's own code is this one line (no asset of its own).
HANDLER_CODE = "from durable_routes.status import handler  # noqa: F401 - Lambda calls index.handler\n"


def status_event_pattern(function_arn: str) -> events.EventPattern:
    """The TIMED_OUT and STOPPED status changes of the executions of the function ``function_arn`` (unqualified).

    AWS's example event names the function qualified with a version (``...:function:my-function:2``) and filters a
    function's events with a ``prefix`` of its ARN; a prefix ending in ``:`` (or the unqualified ARN itself) matches
    every version and alias of this function and no other function whose name merely starts the same."""
    return events.EventPattern(
        source=[STATUS_SOURCE],
        detail_type=[STATUS_DETAIL_TYPE],
        detail={"status": list(FAILED_STATUSES), "functionArn": [{"prefix": f"{function_arn}:"}, function_arn]},
    )


class DurableStatusRecords(Construct):
    """The rule, the function (``function``) and the dead-letter queue (``dead_letter_queue``: events whose record
    could not be made or delivered, from the rule's target or the function's retries) that deliver the failure
    records of ``durable_function``'s timed-out and stopped executions to ``failure_route`` (rendered into the
    environment variable ``failure_variable``, as for the durable function itself)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        durable_function: lambda_.Function,
        runtime: lambda_.Runtime,
        layer: lambda_.ILayerVersion,
        failure_route: BoundRoute,
        failure_variable: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue: sqs.IQueue
        self.dead_letter_queue, _ = secure_queue(
            self,
            "DeadLetterQueue",
            dead_letter_for=f"the timed-out and stopped execution records of {durable_function.node.path}",
            nag_sees_the_use=True,  # cdk-nag's SQS3 recognises a function's DeadLetterConfig
        )
        made: tuple[lambda_.Function, logs.LogGroup | None] = secure_function(
            self,
            "Function",
            function_props=lambda_.FunctionProps(
                runtime=runtime,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER_CODE),
                layers=[layer],
                timeout=Duration.seconds(30),
                description="Delivers the failure records of timed-out and stopped durable executions",
                dead_letter_queue=self.dead_letter_queue,
            ),
        )
        self.function, self.log_group = made
        self._grant_reads(durable_function)
        delivery = failure_route.route.durable_delivery(self, failure_route, DurableDeliveryOptions(self.function))
        self.function.add_environment(failure_variable, delivery.to_json(self))
        routed = rule_to_route(
            self,
            FunctionRoute(self.function),
            RuleTargetOptions(dead_letter_queue=self.dead_letter_queue),
            where="the status-change rule of a DurableFunction",
            side=RouteSide.FAILURE,
            rule=events.RuleProps(
                description="Timed-out and stopped executions of a durable function: their failure records",
                event_pattern=status_event_pattern(durable_function.function_arn),
            ),
            problems=Problems(),
        )
        self.rule: events.Rule = routed.rule

    def _grant_reads(self, durable_function: lambda_.Function) -> None:
        """``GetDurableExecution`` on this function's executions only (their ARNs are its qualified ARN), in a
        policy of its own so that its acknowledgment covers that one statement."""
        policy = iam.Policy(
            self,
            "ReadExecutionsPolicy",
            statements=[
                iam.PolicyStatement(actions=list(READ_ACTIONS), resources=[f"{durable_function.function_arn}:*"])
            ],
        )
        role = self.function.role
        assert role is not None  # secure_function made it
        policy.attach_to_role(role)
        nag.durable_status_grant(policy, durable_function.function_arn)
