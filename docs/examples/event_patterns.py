from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import (
    DestinedFunction,
    EventBusRoute,
    EventPipeline,
    QueueRoute,
    destination_event_pattern,
)

HANDLER = """
def handler(event, context):
    return {"orderId": event["orderId"], "status": "ACCEPTED"}
"""


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Results and failures go to the account's default bus ...
        orders = DestinedFunction(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
            on_success=EventBusRoute.default_bus(),
            on_failure=EventBusRoute.default_bus(),
        )
        # ... where a rule picks out this function's failures with a KeyError, whatever version or alias ran.
        EventPipeline(
            self,
            "BadOrders",
            event_pattern=destination_event_pattern(function=orders.function, error_types=["KeyError"]),
            target=QueueRoute(),
        )
