from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib import PowerTuning


class TuningStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # The tuner may reconfigure and invoke this one function, nothing else.
        tuner = PowerTuning(
            self, "Tuner", allowed_functions=["arn:aws:lambda:eu-west-1:123456789012:function:orders-api"]
        )
        operators = iam.Role(self, "Operators", assumed_by=iam.AccountRootPrincipal())
        tuner.grant_start_execution(operators)
