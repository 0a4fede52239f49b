from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import FunctionWorkflow


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        orders = lambda_.Function.from_function_arn(
            self, "OrdersFunction", "arn:aws:lambda:eu-west-1:123456789012:function:orders"
        )
        # A failed execution's record lands in a new encrypted queue with its own DLQ.
        FunctionWorkflow(self, "Orders", function=orders)
