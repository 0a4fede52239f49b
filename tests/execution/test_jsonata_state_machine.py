"""A JSONata state machine written with plain aws-cdk-lib (its ``jsonata`` factories, ``Condition.jsonata``,
``assign=`` on states, rules and catches) runs in the local kit: the order is priced per line by a Lambda task, each
line reshaped by a Map, routed by a Choice whose rule assigns a variable, and a failing charge is caught with the
error in a variable."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution

CHARGE = """
def handler(event, context):
    if event["amount"] > 1000:
        raise ValueError("over the limit: " + str(event["amount"]))
    return {"chargeId": "ch-" + event["orderId"], "amount": event["amount"]}
"""


def order_machine(stack: cdk.Stack) -> sfn.StateMachine:
    charge_fn = lambda_.Function(
        stack,
        "ChargeFn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(CHARGE),
    )
    # Pass with Output: the order with its total, the customer kept in a variable
    shape = sfn.Pass.jsonata(
        stack,
        "Shape",
        assign={"customer": "{% $states.input.customer %}"},
        outputs={
            "orderId": "{% $states.input.orderId %}",
            "lines": "{% $states.input.lines %}",
            "total": "{% $sum($states.input.lines.(price * qty)) %}",
        },
    )
    # Map with Items (and a JSONata ItemSelector): one line each, with the order id beside it
    each_line = sfn.Map.jsonata(
        stack,
        "EachLine",
        items=sfn.ProvideItems.jsonata("{% $states.input.lines %}"),
        jsonata_item_selector="{% {'orderId': $states.input.orderId, 'sku': $states.context.Map.Item.Value.sku} %}",
        assign={"skus": "{% $states.result.sku %}"},
        outputs="{% $states.input %}",
    )
    each_line.item_processor(sfn.Pass.jsonata(stack, "Line", outputs="{% $states.input %}"))
    # Lambda task with Arguments; a Catch with Assign keeps the error
    charge = tasks.LambdaInvoke.jsonata(
        stack,
        "Charge",
        lambda_function=charge_fn,
        payload=sfn.TaskInput.from_object(
            {"orderId": "{% $states.input.orderId %}", "amount": "{% $states.input.total %}"}
        ),
        assign={"chargeId": "{% $states.result.Payload.chargeId %}"},
        outputs="{% $states.input %}",
    )
    declined = sfn.Pass.jsonata(
        stack,
        "Declined",
        outputs={"status": "DECLINED", "customer": "{% $customer %}", "reason": "{% $failure.Error %}"},
    )
    charge.add_catch(declined, errors=["ValueError"], assign={"failure": "{% $states.errorOutput %}"})
    done = sfn.Pass.jsonata(
        stack,
        "Done",
        outputs={
            "status": "CHARGED",
            "tier": "{% $tier %}",
            "customer": "{% $customer %}",
            "chargeId": "{% $chargeId %}",
            "skus": "{% $skus %}",
            "total": "{% $states.input.total %}",
        },
    )
    # Choice with Condition and Assign: the rule that matches sets the tier
    tier = sfn.Choice.jsonata(stack, "Tier")
    tier.when(sfn.Condition.jsonata("{% $states.input.total >= 100 %}"), charge, assign={"tier": "gold"})
    tier.otherwise(sfn.Pass.jsonata(stack, "Standard", assign={"tier": "standard"}).next(charge))
    charge.next(done)
    definition = shape.next(each_line).next(tier)
    return sfn.StateMachine(
        stack,
        "Orders",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        query_language=sfn.QueryLanguage.JSONATA,
    )


@pytest.fixture
def stack(plain_app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(plain_app, "JsonataOrders")
    order_machine(stack)
    return stack


def test_the_definition_is_jsonata_from_top_to_bottom(stack: cdk.Stack) -> None:
    """What this file runs is what the issue names: Output, Condition, Arguments, Items, Assign in rules and
    catches; no JSONPath field anywhere."""
    template = cdk.assertions.Template.from_stack(stack).to_json()
    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else "ARN" for part in parts)  # tokens sit inside strings
    definition: dict[str, Any] = json.loads(text)
    states = definition["States"]
    assert definition["QueryLanguage"] == "JSONata"
    assert states["Tier"]["Choices"][0]["Assign"] == {"tier": "gold"}
    assert states["Tier"]["Choices"][0]["Condition"].startswith("{%")
    assert "Arguments" in states["Charge"]
    assert states["Charge"]["Catch"][0]["Assign"] == {"failure": "{% $states.errorOutput %}"}
    assert states["EachLine"]["Items"] == "{% $states.input.lines %}"
    jsonpath_fields = {"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath"}
    assert not [name for name, state in states.items() if jsonpath_fields & set(state)]


def test_a_gold_order_is_charged_with_every_variable_in_place(stack: cdk.Stack) -> None:
    order = {
        "orderId": "o-1",
        "customer": {"name": 'Ann "A" Lee'},
        "lines": [{"sku": "A", "price": 40, "qty": 2}, {"sku": "B", "price": 10.5, "qty": 2}],
    }
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Orders", order)
        (invocation,) = kit.invocations("ChargeFn")

    assert result.status == "SUCCEEDED", result.cause
    assert invocation.event == {"orderId": "o-1", "amount": 101}
    assert result.output == {
        "status": "CHARGED",
        "tier": "gold",
        "customer": {"name": 'Ann "A" Lee'},
        "chargeId": "ch-o-1",
        "skus": ["A", "B"],
        "total": 101,
    }
    assert result.states_entered == ["Shape", "EachLine", "Line", "Line", "Tier", "Charge", "Done"]


def test_a_standard_order_takes_the_default_and_a_failing_charge_is_caught(stack: cdk.Stack) -> None:
    small = {"orderId": "o-2", "customer": {"name": "Bo"}, "lines": [{"sku": "C", "price": 5, "qty": 1}]}
    huge = {"orderId": "o-3", "customer": {"name": "Cy"}, "lines": [{"sku": "D", "price": 600, "qty": 2}]}
    with LocalKit.from_stack(stack) as kit:
        standard = kit.start_execution("Orders", small)
        caught = kit.start_execution("Orders", huge)

    assert standard.status == "SUCCEEDED", standard.cause
    assert standard.output["tier"] == "standard"
    assert standard.output["skus"] == "C"  # JSONata: a one-item sequence is its item
    assert caught.status == "SUCCEEDED", caught.cause
    assert caught.output == {"status": "DECLINED", "customer": {"name": "Cy"}, "reason": "ValueError"}
