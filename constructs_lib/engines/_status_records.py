"""The failure record of a Standard workflow's execution that timed out or was aborted.

Step Functions runs no Catch for an execution that runs past its timeout or is stopped: the workflow's own failure
path never runs. Its status-change event does reach the default bus, so a rule on it starts a small Express state
machine that builds the same record (condition ``TimedOut`` or ``Aborted``) and delivers it to the workflow's
failure route, with the same task, its retries and its grants.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib._internal.alarms import AlarmOptions
from constructs_lib._internal.state_machine import StateMachineAlarmOptions, logged_state_machine, state_machine_role
from constructs_lib.events.execution_status_notifications import ExecutionStatusNotifications
from constructs_lib.records import DETAIL_TYPE_FAILURE, Condition, ExecutionStatus
from constructs_lib.routes import BoundRoute, StateMachineRoute, WorkflowTaskOptions

RECORD_PATH = "$.record"
INPUT_INCLUDED_PATH = "$.detail.inputDetails.included"
STATUS_ERRORS = {
    Condition.TIMED_OUT: (
        "States.Timeout",
        "The execution ran past the state machine's timeout (TimeoutSeconds) and was stopped; no Catch runs for it.",
    ),
    Condition.ABORTED: (
        "States.Aborted",
        "The execution was stopped (StopExecution) before it ended; no Catch runs for it.",
    ),
}
"""The ``responsePayload`` of each record: status-change events carry no error or cause for these statuses."""


class StatusFailureRecords(Construct):
    """A rule on the TIMED_OUT and ABORTED status changes of ``state_machine`` that delivers their failure record
    to ``failure_route`` through an Express state machine of its own (``state_machine``), which logs to a log group
    encrypted with ``log_encryption_key`` when one is given."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        failure_route: BoundRoute,
        tracing: bool,
        alarms: StateMachineAlarmOptions,
        log_encryption_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = state_machine_role(self)
        deliver = failure_route.route.workflow_task(
            self,
            failure_route,
            WorkflowTaskOptions(
                state_name="DeliverFailure", record_path=RECORD_PATH, detail_type=DETAIL_TYPE_FAILURE, role=self.role
            ),
        )
        timed_out = self._record(Condition.TIMED_OUT).next(deliver)
        aborted = self._record(Condition.ABORTED).next(deliver)
        which_status = (
            sfn.Choice(self, "WhichStatus")
            .when(sfn.Condition.string_equals("$.detail.status", ExecutionStatus.TIMED_OUT.value), timed_out)
            .otherwise(aborted)
        )
        # Step Functions leaves an input past 248 KB out of the event (inputDetails.included false): the record
        # then carries a null requestPayload rather than failing on the missing text and losing the record.
        input_left_out = sfn.Condition.and_(
            sfn.Condition.is_present(INPUT_INCLUDED_PATH),
            sfn.Condition.boolean_equals(INPUT_INCLUDED_PATH, False),
        )
        null_input = sfn.Pass(self, "InputLeftOut", result=sfn.Result.from_string("null"), result_path="$.detail.input")
        definition = (
            sfn.Choice(self, "InputIncluded")
            .when(input_left_out, null_input.next(which_status))
            .otherwise(which_status)
        )
        made = logged_state_machine(
            self,
            definition,
            role=self.role,
            state_machine_type=sfn.StateMachineType.EXPRESS,
            timeout=Duration.minutes(5),
            tracing=tracing,
            log_level=sfn.LogLevel.ALL,
            include_execution_data=False,
            invokes=[],
            alarms=alarms,
            noun="failure record deliveries",
            log_encryption_key=log_encryption_key,
        )
        self.state_machine = made.state_machine
        self.log_group = made.log_group
        self.alarms: dict[str, cloudwatch.Alarm] = made.alarms
        self.notifications = ExecutionStatusNotifications(
            self,
            "StatusChanges",
            state_machine=state_machine,
            statuses=[ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED],
            route=StateMachineRoute(self.state_machine),
            alarms=AlarmOptions(enabled=alarms.enabled, actions=alarms.actions),
        )
        self.alarms.update(self.notifications.alarms)

    def _record(self, condition: Condition) -> sfn.Pass:
        """The record, from the status-change event (the execution's input is a JSON string there, ``"null"`` when
        the event left it out)."""
        error_type, message = STATUS_ERRORS[condition]
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": sfn.JsonPath.string_at("$.time"),
            "requestContext": {
                "requestId": sfn.JsonPath.string_at("$.detail.name"),
                "functionArn": sfn.JsonPath.string_at("$.detail.stateMachineArn"),
                "condition": condition.value,
                "approximateInvokeCount": 1,
            },
            "requestPayload": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.detail.input")),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": error_type, "errorMessage": message},
        }
        return sfn.Pass(self, f"Build{condition.value}Record", parameters=record, result_path=RECORD_PATH)
