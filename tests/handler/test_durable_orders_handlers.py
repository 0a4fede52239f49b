"""The durable-orders example's handler: its business logic as plain functions, and the handler itself run by AWS's
durable testing SDK (real checkpoints and replays, waits and retry delays not slept; no routes configured, so the
library's decorator delivers nothing)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_durable_execution_sdk_python_testing import DurableFunctionTestResult, DurableFunctionTestRunner

from stacks._code import LAMBDA_SRC, runtime_folders
from tests.conftest import load_event, prompt_durable_stops

FOLDER = LAMBDA_SRC / "durable_orders"
# As the runtime finds them: the function's folder (/var/task) and the durable layer's python/ (/opt/python).
for _folder in (str(runtime_folders()["durable_routes"] / "python"), str(FOLDER)):
    if _folder not in sys.path:
        sys.path.insert(0, _folder)

import order_logic  # noqa: E402

ORDER = {"orderId": "o-1", "sku": "PCB-7", "quantity": 3}


def load_handler() -> ModuleType:
    """handler.py as Lambda imports it (a fresh module each time: its import-time code runs as in a new sandbox)."""
    spec = importlib.util.spec_from_file_location("durable_orders_handler", Path(FOLDER) / "handler.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_handler(event: Any) -> DurableFunctionTestResult:
    """One durable execution of the handler, to its end."""
    handler = load_handler().handler
    with prompt_durable_stops(), DurableFunctionTestRunner(handler=handler, poll_interval=0.01) as runner:
        result: DurableFunctionTestResult = runner.run(
            input=json.dumps(event), execution_timeout=3 * 86400, function_name="orders:live"
        )
    return result


def status(result: DurableFunctionTestResult) -> str:
    assert result.execution_status is not None
    return str(result.execution_status.value)


# ------------------------------------------------------------------------------------------------ business logic


def test_an_sns_event_gives_its_one_order() -> None:
    message = order_logic.order_message(load_event("sns_order.json"))
    assert order_logic.parse_order(message) == order_logic.Order("o-1001", "PCB-7", 3)


def test_an_order_given_directly_is_the_event_itself() -> None:
    assert order_logic.parse_order(order_logic.order_message(ORDER)).order_id == "o-1"


def test_small_orders_are_accepted_and_large_ones_reviewed() -> None:
    small = order_logic.parse_order({**ORDER, "quantity": order_logic.REVIEW_QUANTITY})
    large = order_logic.parse_order({**ORDER, "quantity": order_logic.REVIEW_QUANTITY + 1})
    assert order_logic.decide(small)["status"] == "ACCEPTED"
    assert order_logic.decide(large)["status"] == "REVIEW"


def test_the_payment_is_pending_for_the_checks_the_order_names_then_authorized() -> None:
    order = order_logic.parse_order({**ORDER, "paymentPendingChecks": 2})
    for attempt in (1, 2):
        with pytest.raises(order_logic.OrderPendingError, match=f"still pending \\(check {attempt}\\)"):
            order_logic.authorize_payment(order, attempt)
    assert order_logic.authorize_payment(order, 3) == {"orderId": "o-1", "authorized": True}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not json", "the order message is not JSON"),
        ([1], "an order is a JSON object, got list"),
        ({**ORDER, "quantity": 0}, "quantity must be a positive integer, got 0"),
        ({**ORDER, "coolingOffHours": 0}, "coolingOffHours must be a whole number from 1 to 720, got 0"),
        ({**ORDER, "coolingOffHours": True}, "coolingOffHours must be a whole number from 1 to 720, got True"),
        ({**ORDER, "paymentPendingChecks": -1}, "paymentPendingChecks must be a whole number from 0 to 100"),
        ({"sku": "x", "quantity": 1}, "orderId must be a non-empty string, got None"),
    ],
)
def test_a_bad_order_is_an_invalid_order_error_that_says_what_is_wrong(message: Any, expected: str) -> None:
    with pytest.raises(order_logic.InvalidOrderError) as error:
        order_logic.parse_order(message)
    assert expected in str(error.value)


def test_an_sns_event_with_two_records_is_refused() -> None:
    event = load_event("sns_order.json")
    event["Records"] *= 2
    with pytest.raises(order_logic.InvalidOrderError, match="expected one order per invocation, got 2"):
        order_logic.order_message(event)


# ------------------------------------------------------------------------------------------------ the handler


def test_the_handler_authorizes_waits_and_fulfils_in_parallel() -> None:
    result = run_handler({**ORDER, "paymentPendingChecks": 1})

    assert status(result) == "SUCCEEDED"
    assert json.loads(str(result.result)) == {**ORDER, "status": "ACCEPTED", "reserved": 3, "charged": "o-1"}
    assert [str(op.name) for op in result.operations] == ["AuthorizePayment", "CoolingOff", "Fulfil"]
    assert result.get_step("AuthorizePayment").attempt == 2


def test_the_handler_fails_with_the_order_error_when_the_payment_stays_pending() -> None:
    result = run_handler({**ORDER, "paymentPendingChecks": 4})

    assert status(result) == "FAILED"
    assert result.error is not None
    # The SDK reports the step's error as a StepError; the failure record durable_routes sends keeps the
    # handler's OrderPendingError (the kit's execution tests of the example check that).
    assert result.error.type == "aws_durable_execution_sdk_python.exceptions.StepError"
    assert "still pending (check 4)" in str(result.error.message)
    assert result.get_step("AuthorizePayment").attempt == 4
