import copy
import dataclasses

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import FunctionWorkflow, TopicRoute
from constructs_lib.testing import LocalKit, SynthesizedStack

OUT_OF_STOCK = "def handler(event, context):\n    raise RuntimeError('out of stock')\n"


class OrdersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        FunctionWorkflow(
            self,
            "Orders",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(OUT_OF_STOCK),
            ),
            retry_attempts=0,
            on_failure=TopicRoute(),  # a new topic, encrypted with a customer managed key
        )


def orders_stack() -> cdk.Stack:
    return OrdersStack(cdk.App(), "Orders")


def test_the_failure_record_reaches_the_encrypted_topic() -> None:
    with LocalKit.from_stack(orders_stack()) as kit:  # iam="enforce" by default
        kit.start_execution("Orders/StateMachine", {"orderId": "o-1"})
        alerts = kit.received("Orders/OnFailureTopic")
        denials = kit.denials

    assert [alert["responsePayload"]["errorType"] for alert in alerts] == ["RuntimeError"]
    assert denials == []


def test_without_the_key_grant_the_kit_says_what_is_missing() -> None:
    synthesized = SynthesizedStack.from_stack(orders_stack())
    template = copy.deepcopy(dict(synthesized.template))
    for resource in template["Resources"].values():  # the grant taken out of the synthesized template
        if resource["Type"] == "AWS::IAM::Policy":
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                if "kms:GenerateDataKey*" in statement["Action"]:
                    statement["Action"] = ["kms:Decrypt"]
    with LocalKit(dataclasses.replace(synthesized, template=template)) as kit:
        run = kit.start_execution("Orders/StateMachine", {"orderId": "o-1"})
        (denial, *_) = kit.denials

    assert run.error == "SNS.KMSAccessDeniedException"
    assert (denial.action, denial.missing) == ("sns:Publish", ("kms:GenerateDataKey",))
    assert denial.message.startswith("role OrdersStateMachineRole may not kms:GenerateDataKey on key")
