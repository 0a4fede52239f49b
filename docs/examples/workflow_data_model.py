import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib import Choice, Fail, FunctionWorkflow, Invoke, Pass, QueueRoute, secure_function
from constructs_lib.testing import LocalKit

CHARGE = """
def handler(event, context):
    status = "DECLINED" if event["amount"] > 1000 else "CHARGED"
    return {"status": status, "chargeId": "ch-" + event["orderId"]}
"""
SHIP = """
def handler(event, context):
    return {"orderId": event["orderId"], "chargeId": event["charge"]["chargeId"], "priority": event["priority"]}
"""


def inline(scope: Construct, construct_id: str, code: str) -> lambda_.Function:
    """A function with the library's secure defaults (tracing, its own log group, a least-privilege role)."""
    props = lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(code)
    )
    function, _ = secure_function(scope, construct_id, function_props=props)
    return function


class OrdersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        declined = sfn.Condition.string_equals("$.charge.status", "DECLINED")
        FunctionWorkflow(
            self,
            "Orders",
            steps=[
                # A fixed field added to the state; the rest of the state is kept.
                Pass("Defaults", result="normal", result_path="$.priority"),
                # Charge receives two fields; its result goes to $.charge, beside the order, not over it.
                Invoke(
                    "Charge",
                    inline(self, "ChargeFunction", CHARGE),
                    payload={
                        "orderId": sfn.JsonPath.string_at("$.orderId"),
                        "amount": sfn.JsonPath.number_at("$.total"),
                    },
                    result_path="$.charge",
                ),
                # A declined card fails the run: the failure record goes to on_failure with errorType CardDeclined.
                Choice(
                    "Declined", branches=[(declined, [Fail("Decline", error="CardDeclined", cause="over the limit")])]
                ),
                # Ship receives the whole state: the order, its priority and the charge.
                Invoke("Ship", inline(self, "ShipFunction", SHIP)),
            ],
            on_success=QueueRoute(),
            on_failure=QueueRoute(),
        )


def test_the_order_travels_beside_the_charge_and_a_declined_card_fails() -> None:
    with LocalKit.from_stack(OrdersStack(cdk.App(), "Orders")) as kit:
        shipped = kit.start_execution("Orders/StateMachine", {"orderId": "o-1", "total": 30})
        declined = kit.start_execution("Orders/StateMachine", {"orderId": "o-2", "total": 5000})
        failures = kit.received("Orders/OnFailureQueue")

    assert shipped.output == {"orderId": "o-1", "chargeId": "ch-o-1", "priority": "normal"}
    assert (declined.status, declined.error) == ("FAILED", "CardDeclined")
    assert [f["responsePayload"]["errorType"] for f in failures] == ["CardDeclined"]
