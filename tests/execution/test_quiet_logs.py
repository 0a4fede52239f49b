"""An execution that fails on purpose leaves no ERROR record in the log: the failure is the test's result."""

from __future__ import annotations

import logging

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_lib import FunctionWorkflow, Invoke
from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution

INTERPRETER = "moto.stepfunctions.parser.asl.component.eval_component"


def test_an_expected_failure_logs_no_error_and_the_filter_goes_with_the_kit(
    plain_app: cdk.App, caplog: pytest.LogCaptureFixture
) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    failing = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    raise ValueError('declined')\n"),
    )
    FunctionWorkflow(stack, "Flow", steps=[Invoke("Charge", failing)])
    caplog.set_level(logging.DEBUG, logger=INTERPRETER)
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-1"})

    assert (result.status, result.error) == ("FAILED", "ValueError")
    assert [r.getMessage()[:60] for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert logging.getLogger(INTERPRETER).filters == []
