import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DestinedFunction, EventBusRoute, FunctionWorkflow, QueueRoute, parse_execution_record
from constructs_lib.testing import LocalKit

HANDLER = """
def handler(event, context):
    status = "ACCEPTED" if event["quantity"] <= 10 else "REVIEW"
    return {"orderId": event["orderId"], "status": status}
"""


def orders_props() -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(HANDLER)
    )


class DestinationsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        orders = DestinedFunction(self, "Orders", function_props=orders_props(), on_success=EventBusRoute())
        orders.add_result_rule("Review", route=QueueRoute(), response={"status": "REVIEW"})


class WorkflowStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        orders = FunctionWorkflow(self, "Orders", function_props=orders_props(), on_success=EventBusRoute())
        orders.add_result_rule("Review", route=QueueRoute(), response={"status": "REVIEW"})


def test_both_engines_route_the_order_that_needs_review() -> None:
    order = {"orderId": "o-1", "quantity": 50}
    # What changes for callers: an asynchronous invoke of the function, or StartExecution of the state machine.
    with LocalKit.from_stack(DestinationsStack(cdk.App(), "Destinations")) as kit:
        kit.invoke_async("Orders/Function", order)
        from_destinations = kit.received("Orders/ReviewTargetQueue")
    with LocalKit.from_stack(WorkflowStack(cdk.App(), "Workflow")) as kit:
        kit.start_execution("Orders/StateMachine", order)
        from_workflow = kit.received("Orders/ReviewTargetQueue")

    # What does not: the rule, the queue and the record the consumer reads.
    for events in (from_destinations, from_workflow):
        (record,) = [parse_execution_record(event) for event in events]
        assert record.request_payload == order
        assert record.response_payload == {"orderId": "o-1", "status": "REVIEW"}
