from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DestinedFunction, EventBusRoute, FunctionWorkflow


def orders_function(scope: Construct) -> lambda_.IFunction:
    """An existing function, with its role: DestinedFunction grants that role the right to deliver results."""
    role = iam.Role.from_role_arn(scope, "OrdersRole", "arn:aws:iam::123456789012:role/orders")
    return lambda_.Function.from_function_attributes(
        scope,
        "OrdersFunction",
        function_arn="arn:aws:lambda:eu-west-1:123456789012:function:orders",
        role=role,
        same_environment=True,
    )


class DestinationsStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        fn = orders_function(self)
        DestinedFunction(self, "Orders", function=fn, on_success=EventBusRoute(), retry_attempts=2)


class WorkflowStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        fn = orders_function(self)
        FunctionWorkflow(self, "Orders", function=fn, on_success=EventBusRoute(), retry_attempts=2)
