from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib import DestinedFunction, SlackErrorReporter, SlackWebhook

HANDLER = """
def handler(event, context):
    if "orderId" not in event:
        raise ValueError("orderId is missing")
    return {"orderId": event["orderId"]}
"""


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        orders = DestinedFunction(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
        )
        # The webhook URL lives in a secret you made (never in the template); uncaught errors are posted, then
        # re-raised unchanged.
        secret = secretsmanager.Secret.from_secret_name_v2(self, "SlackWebhook", "slack/webhook")
        reporter = SlackErrorReporter(self, "Slack", webhook=SlackWebhook.from_secret(secret))
        reporter.wrap(orders.function)
