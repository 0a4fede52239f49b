"""PowerTuning: Lambda Power Tuning as a native state machine, with Python handlers and least-privilege IAM.

    Initialize (validate; publish a version and alias RAM<memory> per value, one after the other)
      -> SetupComplete? (no: ContinueSetup, when the setup needs more than one call)
      -> Tune (Map, in parallel over the values): Execute (invoke the alias N times, read the REPORT lines)
      -> Finalize (delete every alias and version made, choose the best value, optimise if asked)
    any failure -> CleanUpOnError (the same clean-up) -> Failed (the execution ends FAILED with the cause).

A successful run takes 4 + P state transitions for P memory values; the reference (aws-lambda-power-tuning) takes
7 + 3 x P (7 + P + 2 x P x N with onlyColdStarts and N invocations).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.assets import runtime_code
from constructs_lib._internal.metrics import StateMachineMetrics
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.state_machine import logged_state_machine, state_machine_role
from constructs_lib._internal.validation import Problems, is_unresolved, whole_seconds
from constructs_lib.defaults import secure_function
from constructs_lib.engines.function_workflow import STANDARD_MAX_SECONDS, WorkflowAlarmOptions

RUNTIME = lambda_.Runtime.PYTHON_3_14
MIN_MEMORY = 128
MAX_MEMORY = 10240
DEFAULT_POWER_VALUES = (128, 256, 512, 1024, 1536, 3008)
LAMBDA_MAX_SECONDS = 900
_FUNCTION_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}$")
_NAME_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,63}$")

SETUP_ACTIONS = [
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionConfiguration",
    "lambda:PublishVersion",
    "lambda:CreateAlias",
    "lambda:UpdateAlias",
]
CLEANUP_ACTIONS = ["lambda:ListAliases", "lambda:ListVersionsByFunction", "lambda:DeleteAlias"]


def transitions(power_values: int) -> int:
    """State transitions of a successful tuning over ``power_values`` values (setup done in one call)."""
    return 4 + power_values


def reference_transitions(power_values: int, *, only_cold_starts: bool = False, num: int = 5) -> int:
    """What a successful run of aws-lambda-power-tuning's state machine takes, its states counted: 7 + 3 x P, or
    7 + P + 2 x P x num with onlyColdStarts (its own estimate says 6 + ...)."""
    return 7 + power_values + 2 * power_values * (num if only_cold_starts else 1)


class PowerTuning(StateMachineMetrics, Construct):
    """Find the memory size that minimises a Lambda function's cost, its duration, or a balance of both."""

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        allowed_functions: Sequence[str | lambda_.IFunction] = (),
        function_name_prefix: str | None = None,
        default_power_values: Sequence[int] = DEFAULT_POWER_VALUES,
        executor_timeout: Duration | None = None,
        timeout: Duration | None = None,
        log_level: sfn.LogLevel = sfn.LogLevel.ALL,
        include_execution_data: bool = False,
        tracing: bool = True,
        alarms: WorkflowAlarmOptions | None = None,
        payload_bucket: s3.IBucket | None = None,
        payload_keys: Sequence[str] = (),
        allow_architecture_changes: bool = False,
    ) -> None:
        """
        :param allowed_functions: the functions this tuner may tune (and use as pre- or post-processors): function
            ARNs (unqualified) or functions. Give this or ``function_name_prefix``.
        :param function_name_prefix: allow every function of this account and region whose name starts with this
            (``arn:...:function:<prefix>*``). Give this or ``allowed_functions``.
        :param default_power_values: the memory sizes to try when the input has no ``powerValues``.
            :default: 128, 256, 512, 1024, 1536, 3008 (the reference's defaults).
        :param executor_timeout: how long one memory value's N invocations may take (at most 15 minutes).
            :default: 15 minutes.
        :param timeout: the whole tuning's timeout. :default: 2 hours.
        :param log_level: :default: ALL (execution data off unless ``include_execution_data``).
        :param include_execution_data: log states' input and output (payloads may be sensitive). :default: false.
        :param tracing: X-Ray tracing of the state machine and its functions. :default: true.
        :param alarms: alarms on Failed / TimedOut / Aborted / Throttled executions. :default: all four on,
            threshold 1.
        :param payload_bucket: the bucket of the S3 payloads an input's ``payloadS3`` may name (with
            ``payload_keys``): the Executor may read those objects only. :default: - no S3 payloads.
        :param payload_keys: the keys, or key patterns with ``*``, of ``payload_bucket`` the tuner may read.
            :default: - none (required with ``payload_bucket``).
        :param allow_architecture_changes: let the tuner switch a tuned function's architecture (UpdateFunctionCode
            with the function's own code, read with GetFunction) so that an input's ``architectures`` can compare
            x86_64 and arm64 in one run; the function gets its architecture back after the setup.
            :default: false (an input with another architecture is refused).
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._validate(allowed_functions, function_name_prefix, default_power_values, executor_timeout, timeout)

        self._function_name_prefix = function_name_prefix
        # What the IAM policies name: the functions themselves (unqualified), and their versions and aliases (:*).
        if function_name_prefix is not None:
            pattern = stack.format_arn(
                service="lambda",
                resource="function",
                resource_name=f"{function_name_prefix}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            self.allowed_arns: list[str] = [pattern]
        else:
            self.allowed_arns = [f if isinstance(f, str) else f.function_arn for f in allowed_functions]
        self.qualified_arns = [f"{arn}:*" for arn in self.allowed_arns]

        tracing_mode = lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED
        self.initializer_function = self._function(
            "Initializer",
            "handlers.initialize",
            "Validates a power tuning input; publishes a version and alias per memory size, one after the other",
            timeout=Duration.seconds(LAMBDA_MAX_SECONDS),
            tracing=tracing_mode,
            environment={
                "ALLOWED_FUNCTIONS": stack.to_json_string(self.allowed_arns),
                # a number token as its string token, resolved at deploy (str() would write its encoding)
                "DEFAULT_POWER_VALUES": ",".join(
                    Token.as_string(v) if is_unresolved(v) else str(v) for v in default_power_values
                ),
            },
        )
        self.executor_function = self._function(
            "Executor",
            "handlers.execute",
            "Invokes one memory size's alias N times and returns its duration and cost statistics",
            timeout=executor_timeout or Duration.seconds(LAMBDA_MAX_SECONDS),
            tracing=tracing_mode,
            memory_size=256,
        )
        self.finalizer_function = self._function(
            "Finalizer",
            "handlers.finalize",
            "Deletes the tuning's versions and aliases, chooses the best memory size, optimises if asked",
            timeout=Duration.minutes(5),
            tracing=tracing_mode,
        )
        self._grant_target_access()
        self._grant_payload_objects(payload_bucket, payload_keys)
        if allow_architecture_changes:
            self._allow_architecture_changes()

        made = logged_state_machine(
            self,
            self._definition(),
            role=state_machine_role(self),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=timeout or Duration.hours(2),
            tracing=tracing,
            log_level=log_level,
            include_execution_data=include_execution_data,
            invokes=[self.initializer_function, self.executor_function, self.finalizer_function],
            alarms=alarms or WorkflowAlarmOptions(),
            noun="power tunings",
        )
        self.log_group, self.state_machine, self.alarms = made.log_group, made.state_machine, made.alarms
        self.role: iam.IRole = self.state_machine.role

    # ------------------------------------------------------------------------------------------------ validation

    def _validate(
        self,
        allowed_functions: Sequence[str | lambda_.IFunction],
        prefix: str | None,
        power_values: Sequence[int],
        executor_timeout: Duration | None,
        timeout: Duration | None,
    ) -> None:
        problems = Problems()
        if bool(allowed_functions) == (prefix is not None):
            problems.add(
                "give allowed_functions (function ARNs or functions) or function_name_prefix, exactly one: they are "
                "what the tuner may reconfigure and invoke"
            )
        for entry in allowed_functions:
            if not isinstance(entry, str) or is_unresolved(entry):
                continue
            if "*" in entry:
                problems.add(
                    f"allowed_functions: {entry!r} has a wildcard; give exact function ARNs, or function_name_prefix "
                    "for every function whose name starts with a prefix"
                )
            elif not _FUNCTION_ARN.match(entry):
                problems.add(
                    f"allowed_functions: {entry!r} is not an unqualified Lambda function ARN "
                    "(arn:aws:lambda:<region>:<account>:function:<name>, no version or alias)"
                )
        if prefix is not None and not is_unresolved(prefix) and not _NAME_PREFIX.match(prefix):
            problems.add(
                f"function_name_prefix must be 1-63 letters, digits, - or _ (the start of function names, no "
                f"wildcard), got {prefix!r}"
            )
        values = list(power_values)
        bad = [v for v in values if not is_unresolved(v) and not MIN_MEMORY <= v <= MAX_MEMORY]
        if not values:
            problems.add("default_power_values is empty: give at least one memory size")
        if bad:
            problems.add(f"default_power_values: memory sizes are {MIN_MEMORY} to {MAX_MEMORY} MB, got {bad}")
        if len(set(values)) != len(values):
            problems.add(f"default_power_values has duplicates: {values}")
        seconds = whole_seconds(executor_timeout, problems, "executor_timeout") if executor_timeout else None
        if seconds is not None and not 1 <= seconds <= LAMBDA_MAX_SECONDS:
            problems.add(f"executor_timeout is a Lambda timeout: 1 s to 15 minutes, got {seconds:g} s")
        total = whole_seconds(timeout, problems, "timeout") if timeout is not None else None
        if total is not None and not 1 <= total <= STANDARD_MAX_SECONDS:
            problems.add(f"timeout must be 1 second to 1 year (a Standard execution's longest), got {total:g} s")
        if total is not None and seconds is not None and total < seconds:
            problems.add(f"timeout ({total:g} s) is shorter than executor_timeout ({seconds:g} s)")
        problems.raise_if_any(self)

    # ------------------------------------------------------------------------------------------------ functions

    def _function(self, construct_id: str, handler: str, description: str, **props: Any) -> lambda_.Function:
        function_props = lambda_.FunctionProps(
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=runtime_code(__file__),
            description=description,
            **props,
        )
        function, _ = secure_function(self, construct_id, function_props=function_props)
        return function

    def _grant_target_access(self) -> None:
        """Each function gets only what it does to the allowed functions."""
        functions = self.allowed_arns
        versions = self.qualified_arns
        self.initializer_function.add_to_role_policy(iam.PolicyStatement(actions=SETUP_ACTIONS, resources=functions))
        self.executor_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], resources=[*functions, *versions]
            )
        )
        self.finalizer_function.add_to_role_policy(
            iam.PolicyStatement(actions=[*SETUP_ACTIONS, *CLEANUP_ACTIONS], resources=functions)
        )
        # Versions only (a qualified ARN): the finalizer can delete a version, never the function itself.
        self.finalizer_function.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:DeleteFunction"], resources=versions)
        )
        for function, arns, why in (
            (self.initializer_function, functions, "reconfigures and publishes versions of"),
            (self.executor_function, [*functions, *versions], "invokes the versions and aliases of"),
            (self.finalizer_function, [*functions, *versions], "deletes the versions and aliases it made of"),
        ):
            if self._function_name_prefix is not None:
                reason = (
                    f"the tuner {why} the functions named {self._function_name_prefix}* only: "
                    "function_name_prefix is the user's choice, and versions and aliases are made per run"
                )
            else:
                reason = (
                    f"the tuner {why} this one function it may tune; they are made per run, so the grant names ARN:*"
                )
            nag.resources(function.role, arns, reason)

    def _grant_payload_objects(self, bucket: s3.IBucket | None, keys: Sequence[str]) -> None:
        """The Executor may read the named objects (and decrypt them with the bucket's KMS key); the Initializer and
        the Executor refuse a ``payloadS3`` outside them."""
        problems = Problems()
        if bucket is None and keys:
            problems.add("payload_keys needs payload_bucket: the bucket of the S3 payloads")
        if bucket is not None and not keys:
            problems.add(
                "payload_bucket needs payload_keys: the keys (or key patterns, e.g. 'tuning/*') the tuner may read"
            )
        for key in keys:
            if not is_unresolved(key) and (not key or key.startswith("/") or key == "*"):
                problems.add(
                    f"payload_keys: {key!r} is not a key or a key pattern inside the bucket (no leading /, not all "
                    "of it: name the objects, e.g. 'tuning/*')"
                )
        problems.raise_if_any(self)
        if bucket is None:
            return
        objects = [bucket.arn_for_objects(key) for key in keys]
        self.executor_function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=objects))
        if bucket.encryption_key is not None:
            bucket.encryption_key.grant_decrypt(self.executor_function)
        readable = Stack.of(self).to_json_string([f"{bucket.bucket_name}/{key}" for key in keys])
        for function in (self.initializer_function, self.executor_function):
            function.add_environment("PAYLOAD_OBJECTS", readable)
        nag.resources(
            self.executor_function.role,
            objects,
            "the tuner reads the S3 payloads the user named with payload_keys (s3:GetObject only); the pattern is "
            "that choice",
        )

    def _allow_architecture_changes(self) -> None:
        """GetFunction (the code's location) and UpdateFunctionCode (the same code, another architecture) on the
        allowed functions, for the Initializer (setup) and the Finalizer (restore, optimise)."""
        for function in (self.initializer_function, self.finalizer_function):
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["lambda:GetFunction", "lambda:UpdateFunctionCode"], resources=self.allowed_arns
                )
            )
            function.add_environment("ARCHITECTURE_CHANGES", "true")

    # ------------------------------------------------------------------------------------------------ states

    def _definition(self) -> sfn.IChainable:
        execution = sfn.JsonPath.string_at("$$.Execution.Name")
        failed = sfn.Fail(self, "Failed", error_path="$.error.Error", cause_path="$.error.Cause")
        clean_up = self._invoke(
            "CleanUpOnError",
            self.finalizer_function,
            {"action": "cleanUp", "state": sfn.JsonPath.entire_payload, "execution": execution},
            result_path=sfn.JsonPath.DISCARD,
        )
        # A clean-up that fails too still ends in Failed with the first cause.
        clean_up.add_catch(failed, errors=["States.ALL"], result_path="$.cleanUpError")
        clean_up.next(failed)

        initialize = self._invoke(
            "Initialize", self.initializer_function, {"input": sfn.JsonPath.entire_payload, "execution": execution}
        )
        continue_setup = self._invoke(
            "ContinueSetup",
            self.initializer_function,
            {
                "config": sfn.JsonPath.object_at("$.config"),
                "setup": sfn.JsonPath.object_at("$.setup"),
                "execution": execution,
            },
        )
        execute = self._invoke("Execute", self.executor_function, None)  # the item, as the ItemSelector made it
        tune = sfn.Map(
            self,
            "Tune",
            items_path="$.config.powerValues",
            item_selector={
                "value": sfn.JsonPath.number_at("$$.Map.Item.Value"),
                "config": sfn.JsonPath.object_at("$.config"),
            },
            result_path="$.stats",
            max_concurrency=0,
        )
        tune.item_processor(execute)
        tune.add_catch(clean_up, errors=["States.ALL"], result_path="$.error")
        finalize = self._invoke(
            "Finalize",
            self.finalizer_function,
            {
                "action": "finalize",
                "config": sfn.JsonPath.object_at("$.config"),
                "setup": sfn.JsonPath.object_at("$.setup"),
                "stats": sfn.JsonPath.list_at("$.stats"),
                "execution": execution,
            },
        )
        for task in (initialize, continue_setup, finalize):
            task.add_catch(clean_up, errors=["States.ALL"], result_path="$.error")
        setup_complete = (
            sfn.Choice(self, "SetupComplete")
            .when(sfn.Condition.boolean_equals("$.setup.done", True), tune.next(finalize))
            .otherwise(continue_setup)
        )
        continue_setup.next(setup_complete)
        return initialize.next(setup_complete)

    def _invoke(
        self,
        state_id: str,
        function: lambda_.IFunction,
        payload: Any,
        *,
        result_path: str | None = None,
    ) -> sfn_tasks.LambdaInvoke:
        return sfn_tasks.LambdaInvoke(
            self,
            state_id,
            lambda_function=function,
            payload=sfn.TaskInput.from_object(payload) if payload is not None else None,
            payload_response_only=True,
            retry_on_service_exceptions=True,
            result_path=result_path,
        )

    # ------------------------------------------------------------------------------------------------ grants

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """StartExecution of a tuning."""
        return self.state_machine.grant_start_execution(grantee)

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe and list executions (to read a tuning's output)."""
        return self.state_machine.grant_read(grantee)


__all__ = ["PowerTuning", "reference_transitions", "transitions"]
