from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import AsyncAlarmOptions, DestinedFunction, EventBusRoute, QueueRoute

HANDLER = """
def handler(event, context):
    status = "ACCEPTED" if event["quantity"] <= 10 else "REVIEW"
    return {"orderId": event["orderId"], "status": status}
"""


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        orders = DestinedFunction(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
                timeout=Duration.seconds(10),
            ),
            on_success=EventBusRoute(),  # every record goes to a new custom bus
            on_failure=QueueRoute(),
            retry_attempts=1,
            max_event_age=Duration.hours(1),
            alarms=AsyncAlarmOptions(period=Duration.minutes(1)),
        )
        # A rule on that bus picks records out: accepted orders go on to a queue (with a DLQ and a retry policy).
        orders.add_result_rule("Accepted", route=QueueRoute(), response={"status": ["ACCEPTED"]})
        # An SQS event source: failed messages go to the source queue's own redrive DLQ.
        incoming_dlq = sqs.Queue(self, "IncomingDlq", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)
        incoming = sqs.Queue(
            self,
            "Incoming",
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            visibility_timeout=Duration.minutes(1),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=incoming_dlq),
        )
        orders.add_stream_source(incoming)
