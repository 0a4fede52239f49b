from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DurableFunction, EventBusRoute

# The handler: durable_routes (in the layer DurableFunction adds) delivers the execution record of each execution
# to the routes, inside a durable step; steps are checkpointed and retried, waits cost no compute.
HANDLER = """
from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.config import Duration
from durable_routes import routed_durable_execution

@routed_durable_execution
def handler(event, context: DurableContext):
    reserved = context.step(lambda _: {"orderId": event["orderId"], "reserved": True}, name="Reserve")
    context.wait(Duration.from_hours(1), name="Settle")
    return {"orderId": reserved["orderId"], "status": "ACCEPTED"}
"""


class DurableOrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Results go to a new event bus; failed executions to a new encrypted queue (with its own DLQ).
        DurableFunction(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
            on_success=EventBusRoute(),
        )
