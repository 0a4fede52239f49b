import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DestinedFunction
from constructs_lib.testing import LocalKit

HANDLER = """
def handler(event, context):
    if "orderId" not in event:
        raise ValueError("orderId is missing")
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
        )


def test_a_bad_order_is_retried_then_kept_on_the_failure_queue() -> None:
    stack = OrdersStack(cdk.App(), "Orders")
    with LocalKit.from_stack(stack) as kit:
        good = kit.invoke_async("Orders/Function", {"orderId": "o-1"})
        bad = kit.invoke_async("Orders/Function", {"quantity": 3})
        failures = kit.messages("Orders/OnFailureQueue")

    assert good.succeeded
    assert good.record["responsePayload"]["status"] == "ACCEPTED"
    assert bad.condition == "RetriesExhausted"
    assert len(bad.attempts) == 3  # the first attempt and Lambda's 2 retries (1 and 2 minutes later, not slept)
    assert [f["requestPayload"] for f in failures] == [{"quantity": 3}]
    assert failures[0]["responsePayload"]["errorType"] == "ValueError"
