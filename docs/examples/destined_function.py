from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DestinedFunction

HANDLER = """
def handler(event, context):
    return {"orderId": event["orderId"], "status": "ACCEPTED"}
"""


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Failed events (after 2 retries) land in a new encrypted queue with its own DLQ.
        DestinedFunction(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
        )
