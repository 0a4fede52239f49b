from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import ExecutionStatus, ExecutionStatusNotifications, FunctionWorkflow, TopicRoute


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        orders = lambda_.Function.from_function_arn(
            self, "OrdersFunction", "arn:aws:lambda:eu-west-1:123456789012:function:orders"
        )
        workflow = FunctionWorkflow(self, "Orders", function=orders)

        # FAILED and TIMED_OUT executions of that state machine go to a new KMS-encrypted topic.
        ExecutionStatusNotifications(
            self,
            "Alerts",
            state_machine=workflow.state_machine,
            statuses=[ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT],
            route=TopicRoute(),
        )
        # The same, made by the workflow for its own state machine:
        workflow.notify_on("Aborted", statuses=[ExecutionStatus.ABORTED], route=TopicRoute())
