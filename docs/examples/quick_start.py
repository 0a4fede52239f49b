import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks

from constructs_lib import DestinedFunction, EventBusRoute, QueueRoute

HANDLER = """
def handler(event, context):
    if "orderId" not in event:
        raise ValueError("orderId is missing")
    return {"orderId": event["orderId"], "status": "ACCEPTED"}
"""

app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))  # an unacknowledged cdk-nag finding fails synth
stack = cdk.Stack(app, "QuickStart")
orders = DestinedFunction(
    stack,
    "Orders",
    function_props=lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(HANDLER),
    ),
    on_success=EventBusRoute(),  # results: a new custom event bus
    on_failure=QueueRoute(),  # failed events: a new SSE-SQS, TLS-only queue with its own DLQ
    retry_attempts=2,
    max_event_age=cdk.Duration.hours(1),
)
cdk.CfnOutput(stack, "FunctionName", value=orders.function.function_name)
app.synth()
