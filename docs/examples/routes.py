from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import BucketRoute, DestinedFunction, FunctionWorkflow, QueueRoute

HANDLER = """
def handler(event, context):
    return {"orderId": event["orderId"]}
"""


class RoutesStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Bring your own queue ...
        existing = sqs.Queue.from_queue_arn(self, "Orders", "arn:aws:sqs:eu-west-1:123456789012:orders")
        # ... or let the route make one with your props merged over the secure defaults (never both).
        audit = QueueRoute(queue_props=sqs.QueueProps(retention_period=Duration.days(4)))

        fn = DestinedFunction(
            self,
            "Worker",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
            on_success=QueueRoute(existing),
            on_failure=BucketRoute(),  # a new bucket: failures only
        )
        # The same route object in one stack is one queue: the workflow's failures join the audit queue.
        FunctionWorkflow(self, "Flow", function=fn.function, on_success=audit, on_failure=audit)
