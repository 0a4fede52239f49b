import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from constructs import Construct

from constructs_lib import DestinedFunction, EventBusRoute
from constructs_lib.testing import wildcard_resource_problems

HANDLER = """
def handler(event, context):
    return event
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
            on_success=EventBusRoute(),
        )


def test_no_policy_grants_more_than_aws_requires_on_every_resource() -> None:
    stack = OrdersStack(cdk.App(), "Orders")
    # Only actions that AWS lets you grant on "*" alone (X-Ray's here) may name every resource.
    assert wildcard_resource_problems(Template.from_stack(stack).to_json()) == []
