from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import (
    DestinedFunction,
    ExecutionStatus,
    FunctionWorkflow,
    SlackErrorReporter,
    SlackNotifier,
    SlackWebhook,
)

HANDLER = """
def handler(event, context):
    if event.get("amount", 0) > 1000:
        raise RuntimeError("payment declined")
    return {"charged": event.get("amount", 0)}
"""


class PaymentsStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        reporter = SlackErrorReporter(self, "Slack", webhook=SlackWebhook.from_parameter("/slack/webhook"))
        notifier = SlackNotifier(self, "SlackNotifier", reporter=reporter)

        # Failure records of a DestinedFunction, after Lambda's retries:
        DestinedFunction(
            self,
            "Charge",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
            on_failure=notifier.route,
        )
        # Failed, timed-out and aborted executions of a workflow:
        ship = lambda_.Function.from_function_arn(
            self, "ShipFunction", "arn:aws:lambda:eu-west-1:123456789012:function:ship"
        )
        workflow = FunctionWorkflow(self, "Shipping", function=ship)
        workflow.notify_on(
            "SlackOnFailure",
            statuses=[ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED],
            route=notifier.route,
        )
