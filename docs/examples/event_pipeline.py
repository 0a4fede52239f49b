from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import EventPipeline, FunctionWorkflow, StateMachineRoute


class NightlyStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        report = lambda_.Function.from_function_arn(
            self, "ReportFunction", "arn:aws:lambda:eu-west-1:123456789012:function:nightly-report"
        )
        workflow = FunctionWorkflow(self, "Report", function=report)

        # Every night at 02:00 UTC, start the workflow with {"job": "nightly"} (DLQ and retry policy included).
        EventPipeline(
            self,
            "Nightly",
            schedule=events.Schedule.cron(hour="2", minute="0"),
            target=StateMachineRoute(workflow.state_machine),
            message=events.RuleTargetInput.from_object({"job": "nightly"}),
        )
