import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DestinedFunction, QueueRoute
from constructs_lib.testing import Faults, LocalKit

HANDLER = """
def handler(event, context):
    return {"orderId": event["orderId"], "status": "ACCEPTED"}
"""


class OrdersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        DestinedFunction(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
            on_success=QueueRoute(),
        )


def test_a_consumer_that_deduplicates_by_request_id_sees_each_order_once() -> None:
    stack = OrdersStack(cdk.App(), "Orders")
    faults = Faults(seed=7, duplicate_rate=0.2, throttle_rate=0.1)
    with LocalKit.from_stack(stack, faults=faults) as kit:
        for number in range(50):
            kit.invoke_async("Orders/Function", {"orderId": f"o-{number}"})
        records = kit.messages("Orders/OnSuccessQueue")
        duplicates = [d for d in kit.deliveries("Orders/OnSuccessQueue") if d.duplicate]

    assert len(records) == 50 + len(duplicates) > 50  # Lambda delivers at least once
    seen = {record["requestContext"]["requestId"]: record["requestPayload"] for record in records}
    assert sorted(order["orderId"] for order in seen.values()) == sorted(f"o-{n}" for n in range(50))
