"""Where the local kit joins moto: each hook replaces one moto function while a kit runs, and is undone after.

moto stands the services up; the kit adds what moto does not do: real handler code for Lambda invocations,
asynchronous invocation with retries and destinations, EventBridge targets beyond SQS, SNS to Lambda as an
asynchronous invoke with the real event shape, SageMaker endpoints as test stand-ins, compressed time in
Wait states and Retry intervals, a record of what every resource received, and the authorizer asked before each
call made for a principal (every botocore call, SNS and S3 deliveries moto makes itself).
"""

from __future__ import annotations

import base64
import collections
import contextvars
import datetime
import functools
import inspect
import io
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine import (
    asl_errors,
    direct_calls,
    error_names,
    interpreter_import,
    json_copy,
    jsonata_eval,
    service_models,
    state_threads,
    variables,
)
from constructs_lib.testing._engine.botocore_answers import botocore_error, client_error, response_metadata
from constructs_lib.testing.results import parse_json

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine


@dataclass
class InvokeAnswer:
    """What the kit answers to a Lambda Invoke call."""

    payload: bytes
    function_error: str | None = None
    log_result: str | None = None


def architecture_of(function: Any) -> str:
    """The instruction set architecture of moto's object of a function version."""
    return str((getattr(function, "architectures", None) or ["x86_64"])[0])


def aws_timestamp(value: Any) -> Any:
    """An ISO 8601 time (text or datetime) as Step Functions writes it: UTC, milliseconds, ``Z``."""
    when = value
    if isinstance(value, str):
        try:
            when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(when, datetime.datetime):
        return value
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


@dataclass
class ServiceAnswerError:
    """A stand-in's AWS error answer, serialised by moto."""

    code: str
    message: str
    status: int = 400


_PARSED: collections.OrderedDict[str, tuple[Any, Any]] = collections.OrderedDict()
"""Parsed definitions (moto's program and its parse tree) by definition text, shared by the kits of a process, the
least recently used dropped past ``_PARSED_MAX``."""
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 256

_INHERITED = object()
"""Marks a patched attribute that the class only inherited: undo deletes it again."""

NOT_OURS = object()
"""Returned by a kit callback when the resource is not one of the stack's: moto's own behaviour applies."""


class _Patches:
    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, new: Any) -> Any:
        original = getattr(owner, name)
        own = name in vars(owner)
        self._undo.append((owner, name, original if own else _INHERITED))
        setattr(owner, name, new)
        return original

    def undo(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


_retry_env = threading.local()
_invoked = threading.local()
"""The qualifier of the Invoke being served in this thread (moto hands the invoked version object on, not it)."""
_sending = threading.local()


def install(engine: KitEngine) -> Callable[[], None]:
    """Install every hook, calling back into ``engine``; returns the function that removes them."""
    interpreter_import.import_interpreter()
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.dynamodb.models import DynamoDBBackend
    from moto.events.models import EventsBackend, Rule
    from moto.s3 import notifications as s3_notifications
    from moto.s3.models import S3Backend
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
    from moto.sns.models import SNSBackend, Subscription
    from moto.sqs.models import Queue, SQSBackend
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    patches = _Patches()
    service_models.install(patches)

    # -- Step Functions runtime errors named as AWS names them (not a Python exception's repr) ---------------
    asl_errors.install(patches)

    # -- Step Functions' context object: times as AWS writes them ("2019-03-26T20:14:13.192Z"), not Python's
    # isoformat ("...13.192345+00:00"): $$.State.EnteredTime and $$.Execution.StartTime.
    import moto.stepfunctions.parser.asl.component.state.state as state_module
    import moto.stepfunctions.parser.backend.execution_worker as worker_module

    original_state_data = getattr(state_module, "StateData")  # noqa: B009 - the name moto imported, not exported
    original_execution_data = getattr(worker_module, "ExecutionData")  # noqa: B009

    def state_data(**fields: Any) -> Any:
        if "EnteredTime" in fields:
            fields["EnteredTime"] = aws_timestamp(fields["EnteredTime"])
        return original_state_data(**fields)

    def execution_data(**fields: Any) -> Any:
        if "StartTime" in fields:
            fields["StartTime"] = aws_timestamp(fields["StartTime"])
        return original_execution_data(**fields)

    patches.replace(state_module, "StateData", state_data)
    patches.replace(worker_module, "ExecutionData", execution_data)

    # -- The end of an execution, told to the engine as its worker thread sets the final status --------------------
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original_terminated = BaseExecutionWorkerCommunication.terminated

    def terminated(self: Any) -> None:
        try:
            original_terminated(self)
        finally:
            engine.executions.notify_ended()

    patches.replace(BaseExecutionWorkerCommunication, "terminated", terminated)

    # -- Lambda: every invocation path of moto (API, Step Functions tasks, SQS, SNS, S3) ends here ---------------
    original_invoke = LambdaFunction.invoke

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        headers = {str(key).lower(): value for key, value in dict(request_headers or {}).items()}
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        # ``self`` is moto's object of the invoked qualifier: $LATEST, or the version an alias points at.
        answer = engine.on_lambda_invoke(
            self.function_name,
            body,
            invocation_type,
            headers.get("x-amz-log-type") == "Tail",
            version=str(getattr(self, "version", "$LATEST")),
            memory_mb=getattr(self, "memory_size", None),
            qualifier=getattr(_invoked, "qualifier", None) or None,
            architecture=architecture_of(self),
        )
        if answer is NOT_OURS:
            return original_invoke(self, body, request_headers, response_headers)
        assert isinstance(answer, InvokeAnswer)
        if answer.function_error:
            response_headers["x-amz-function-error"] = answer.function_error
        if answer.log_result is not None:
            response_headers["x-amz-log-result"] = base64.b64encode(answer.log_result.encode()).decode()
        return answer.payload

    patches.replace(LambdaFunction, "invoke", invoke)

    # A function's architecture: moto keeps the one CreateFunction gave and ignores UpdateFunctionCode's
    # Architectures; Lambda changes it there ("The instruction set architecture that the function supports",
    # https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html), and GetFunction /
    # GetFunctionConfiguration say so.
    original_update_code = LambdaFunction.update_function_code

    def update_function_code(self: Any, updated_spec: dict[str, Any]) -> Any:
        previous = self.architectures
        if updated_spec.get("Architectures") is not None:
            self.architectures = list(updated_spec["Architectures"])  # moto's setter refuses what Lambda refuses
        try:
            answer = original_update_code(self, updated_spec)
        except BaseException:
            self.architectures = previous
            raise
        if updated_spec.get("DryRun"):  # validated, nothing changed
            self.architectures = previous
            return self.get_configuration()
        return answer

    patches.replace(LambdaFunction, "update_function_code", update_function_code)

    # A published version is a snapshot: "its code, runtime, architecture, memory, layers, and most other
    # configuration settings are immutable" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html).
    # moto's version is a shallow copy of $LATEST that shares its code record (the location's key), so a later
    # UpdateFunctionCode of $LATEST would show in the version: the version gets its own copies.
    from moto.awslambda.models import LambdaStorage

    original_publish = LambdaStorage.publish_version

    def publish_version(self: Any, name_or_arn: str, description: str = "") -> Any:
        version = original_publish(self, name_or_arn, description)
        if version is not None:
            version.code = dict(version.code)
            version.architectures = list(version.architectures)
        return version

    patches.replace(LambdaStorage, "publish_version", publish_version)

    # GetFunction's Code.Location: a presigned URL of the deployment package, valid for up to 10 minutes
    # (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html); the kit's answers on loopback
    # (see code_server), where moto's names a host that does not exist.
    original_get_code = LambdaFunction.get_code

    def get_code(self: Any) -> Any:
        answer = original_get_code(self)
        code = answer.get("Code")
        package = getattr(self, "code_bytes", None)
        if isinstance(code, dict) and code.get("RepositoryType") == "S3" and isinstance(package, bytes):
            code["Location"] = engine.code_location(str(self.function_name), package)
        return answer

    patches.replace(LambdaFunction, "get_code", get_code)

    # The invoked qualifier (an alias name, a version, or none), from the call or a qualified function ARN / name:
    # the alias's asynchronous settings and records are the alias's own.
    original_backend_invoke = LambdaBackend.invoke

    def backend_invoke(self: Any, function_name: str, qualifier: str | None, *args: Any) -> Any:
        parts = str(function_name).split(":")  # name, name:qualifier, or an ARN with or without a qualifier
        named = parts[7] if len(parts) == 8 else parts[1] if len(parts) == 2 else None
        _invoked.qualifier = qualifier or named
        try:
            return original_backend_invoke(self, function_name, qualifier, *args)
        finally:
            _invoked.qualifier = None

    patches.replace(LambdaBackend, "invoke", backend_invoke)

    # moto's Invoke reads its Qualifier query parameter as "qualifier" and misses it: every call ran $LATEST.
    from moto.awslambda.responses import LambdaResponse

    original_get_param = LambdaResponse._get_param

    def get_param(self: Any, param_name: str, if_none: Any = None) -> Any:
        if param_name == "qualifier":
            value = self.querystring.get("Qualifier", [None])[0]
            if value is not None:
                return value
        return original_get_param(self, param_name, if_none)

    patches.replace(LambdaResponse, "_get_param", get_param)

    # -- SNS -> Lambda: an asynchronous invoke with the real SNS event; SNS -> SQS authorized first --------------
    original_subscription_publish = Subscription.publish

    def subscription_publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if self.protocol not in ("lambda", "sqs"):
            original_subscription_publish(self, message, message_id, subject, message_attributes, **kwargs)
            return
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if not engine.on_sns_subscription(self):
            envelope = self.get_post_data(message, message_id, subject, message_attributes=message_attributes)
            engine.on_sns_refused(self, envelope)
            return
        if self.protocol == "sqs":

            def deliver() -> None:
                original_subscription_publish(self, message, message_id, subject, message_attributes, **kwargs)

        else:
            text = (
                self._parse_message_structure(message, self.protocol)
                if kwargs.get("message_structure") == "json"
                else message
            )

            def deliver() -> None:
                engine.on_sns_to_lambda(self, text, message_id, subject, message_attributes)

        # SNS delivers at least once: the same message (same MessageId) may reach a subscription twice.
        engine.faults.at_least_once(f"sns:{self.arn}", message, deliver)

    patches.replace(Subscription, "publish", subscription_publish)

    # -- EventBridge: matched events go to every kind of target --------------------------------------------------
    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        # A disabled rule, or a schedule-only rule (moto matches its empty pattern to everything), gets nothing.
        if self.state != "ENABLED" or (self.scheduled_expression and not self.event_pattern._pattern):
            return
        if not self.event_pattern.matches_event(original_event):
            return
        event = {key: value for key, value in original_event.items() if key != "ingestion-time"}
        if isinstance(event.get("time"), (int, float)):
            event["time"] = datetime.datetime.fromtimestamp(event["time"], datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        engine.on_rule_match(self, event)

    patches.replace(Rule, "send_to_targets", send_to_targets)

    # -- S3 -> Lambda notifications: asynchronous, as on AWS; to queues and topics authorized first -------------
    # S3 event notifications are delivered at least once: each may arrive twice.
    def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        engine.faults.at_least_once(f"s3:{fn_arn}", event_body, lambda: engine.on_s3_to_lambda(event_body, fn_arn))

    patches.replace(s3_notifications, "_invoke_awslambda", invoke_awslambda)
    original_send_sqs = s3_notifications._send_sqs_message
    original_send_sns = s3_notifications._send_sns_message

    def send_sqs_message(account_id: str, event_body: Any, queue_name: str, region_name: str) -> None:
        queue_arn = f"arn:aws:sqs:{region_name}:{account_id}:{queue_name}"
        if engine.on_s3_notification("sqs:SendMessage", queue_arn, event_body):
            engine.faults.at_least_once(
                f"s3:{queue_arn}",
                event_body,
                lambda: original_send_sqs(account_id, event_body, queue_name, region_name),
            )

    def send_sns_message(account_id: str, event_body: Any, topic_arn: str, region_name: str) -> None:
        if engine.on_s3_notification("sns:Publish", topic_arn, event_body):
            engine.faults.at_least_once(
                f"s3:{topic_arn}",
                event_body,
                lambda: original_send_sns(account_id, event_body, topic_arn, region_name),
            )

    patches.replace(s3_notifications, "_send_sqs_message", send_sqs_message)
    patches.replace(s3_notifications, "_send_sns_message", send_sns_message)

    # moto tags every new object (with no tags) and sends an "Object Tags Added" event for it; S3 does not.
    original_tagging = S3Backend.put_object_tagging

    def put_object_tagging(self: Any, key: Any, tags: dict[str, str] | None) -> Any:
        if not tags:
            self.tagger.delete_all_tags_for_resource(key.arn)
            return key
        return original_tagging(self, key, tags)

    patches.replace(S3Backend, "put_object_tagging", put_object_tagging)

    # -- SageMaker runtime: the test's stand-in per endpoint, with the raw bytes --------------------------------
    original_invoke_endpoint = SageMakerRuntimeResponse.invoke_endpoint

    def invoke_endpoint(self: Any) -> Any:
        endpoint_name = self.path.split("/")[2]
        raw = self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode()
        answer = engine.on_sagemaker_invoke(
            endpoint_name, raw, self.headers.get("Content-Type", "application/octet-stream"), self.headers.get("Accept")
        )
        if answer is NOT_OURS:
            return original_invoke_endpoint(self)
        return answer

    patches.replace(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)
    # moto decodes request bodies as UTF-8 by default; an image is not UTF-8.
    patches.replace(SageMakerRuntimeResponse, "use_raw_body", True)
    original_sdk_task = StateTaskServiceAwsSdk._eval_service_task

    def sdk_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        original_sdk_task(self, env, *args, **kwargs)
        response = env.stack[-1]
        if isinstance(response, dict):
            # Step Functions gives a streaming body (SageMaker's Body, S3's GetObject Body) as text.
            for key, value in list(response.items()):
                if hasattr(value, "read"):
                    response[key] = value.read().decode("utf-8", errors="replace")

    patches.replace(StateTaskServiceAwsSdk, "_eval_service_task", sdk_task)
    overrides = dict(StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES)
    overrides.setdefault("sagemakerruntime", "sagemaker-runtime")
    patches.replace(StateTaskService, "_SERVICE_NAME_SFN_TO_BOTO_OVERRIDES", overrides)

    # -- Compressed time: Wait states and Retry intervals are recorded, not slept -------------------------------
    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        execution_arn, state = _where(env)
        engine.on_virtual_wait(execution_arn, state, float(wait_seconds), "Wait")

    patches.replace(WaitFunction, "_wait_interval", wait_interval)
    original_retrier_body = retrier_decl.RetrierDecl._eval_body

    def retrier_body(self: Any, env: Any) -> None:
        _retry_env.env = env
        try:
            original_retrier_body(self, env)
        finally:
            _retry_env.env = None

    patches.replace(retrier_decl.RetrierDecl, "_eval_body", retrier_body)

    class _VirtualTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            execution_arn, state = _where(getattr(_retry_env, "env", None))
            engine.on_virtual_wait(execution_arn, state, float(seconds), "Retry")

    patches.replace(retrier_decl, "time", _VirtualTime)

    # -- Error names: a branch's, an iteration's or a Fail state's States.* error keeps its name ---------------------
    error_names.install(patches)
    json_copy.install(patches)  # moto copies a state's data at every step: walked as JSON, not deepcopy'd
    state_threads.install(patches)  # no thread per task attempt without a timeout, at most 40 per Inline Map
    # -- JSONata and variables: moto's evaluator is a stub; jsonata_eval evaluates with bindings ------------------
    jsonata_eval.install(patches.replace)
    variables.install(patches.replace)

    # -- Speed: parse each definition once, and reuse boto3 clients across tasks ---------------------------------
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original_parse = asl_parser.AmazonStateLanguageParser.parse

    def parse(definition: str) -> tuple[Any, Any]:
        # moto parses the definition on every StartExecution and CreateStateMachine (the tree, then its program of
        # components: about 4 ms for a small machine, a third of a kit's stand-up). Both are built once per definition
        # in a process (_PARSED): the tree is read-only, and the program's components keep no execution's state (each
        # execution's is in its Environment; moto itself evaluates the same components again for each Map iteration,
        # retry and loop, concurrently for Map iterations) and no kit's (the kit's patches are on moto's classes and
        # modules, read when a component runs; those of the Preprocessor make components of classes of their own,
        # which capture no kit and behave the same in every kit).
        with _PARSED_LOCK:
            found = _PARSED.get(definition)
            if found is not None:
                _PARSED.move_to_end(definition)
                return found
        given, definition = definition, jsonata_eval.rewrite_definition(definition)  # a pure function of the text
        errors = asl_parser.SyntaxErrorListener()  # type: ignore[no-untyped-call]
        parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
        parser.removeErrorListeners()
        parser.addErrorListener(errors)
        tree = parser.state_machine()  # type: ignore[no-untyped-call]
        if errors.errors:
            return original_parse(definition)
        preprocessor = Preprocessor()
        # moto keeps the query-language scopes in one list on the class: a parse it refused midway left its scopes
        # there, for the next definition of the process to start inside them. Each parse has its own.
        preprocessor._query_language_per_scope = []
        program = preprocessor.visit(tree)
        _fix_heap_keys(program)
        with _PARSED_LOCK:
            found = _PARSED.setdefault(given, (program, tree))
            while len(_PARSED) > _PARSED_MAX:
                _PARSED.popitem(last=False)
            return found

    patches.replace(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(parse))

    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    original_client_for = boto_client_module.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    clients_lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with clients_lock:
            key = (region, service)
            if key not in clients:
                clients[key] = original_client_for(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if (
            name.startswith("moto.stepfunctions.parser")
            and getattr(module, "boto_client_for", None) is original_client_for
        ):
            patches.replace(module, "boto_client_for", boto_client_for)

    # moto builds a new JSONPath parser (ply's tables) for every path it evaluates: about an eighth of a workflow's
    # CPU for its reads, and a fifth more for its ResultPaths (which use jsonpath_ng's plain grammar). A parsed path
    # is immutable (finding and updating change the data, not the path), so each is parsed once per grammar.
    from jsonpath_ng.ext.parser import parse as jsonpath_parse
    from jsonpath_ng.parser import parse as plain_jsonpath_parse
    from moto.stepfunctions.parser.asl.component.common.path import result_path as result_path_module
    from moto.stepfunctions.parser.asl.utils import json_path as json_path_module

    patches.replace(json_path_module, "parse", functools.lru_cache(maxsize=4096)(jsonpath_parse))
    patches.replace(result_path_module, "parse", functools.lru_cache(maxsize=4096)(plain_jsonpath_parse))

    # moto's SendMessage reads one attribute (ContentBasedDeduplication) through Queue.attributes, which also counts
    # the visible, delayed and in-flight messages, checking each one's clock: every send costs O(messages queued),
    # so 1,000 sends to one queue took about 10 s. During a send the attributes skip those three counts.
    from moto.core.utils import camelcase_to_underscores

    original_attributes = Queue.__dict__["attributes"].fget
    counts = {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    }

    attribute_name = functools.lru_cache(maxsize=64)(camelcase_to_underscores)  # a handful of names, each a regex

    def attributes(self: Any) -> dict[str, Any]:
        if not getattr(_sending, "active", False):
            result: dict[str, Any] = original_attributes(self)
            return result
        # moto 5.2.5's Queue.attributes without the three counts
        names = [name for name in self.BASE_ATTRIBUTES if name not in counts]
        if self.fifo_queue:
            names += self.FIFO_ATTRIBUTES
        if self.kms_master_key_id:
            names += self.KMS_ATTRIBUTES
        cheap = {name: getattr(self, attribute_name(name)) for name in names}
        if self.policy:
            cheap["Policy"] = self.policy
        if self.redrive_policy:
            cheap["RedrivePolicy"] = json.dumps(self.redrive_policy)
        return {key: str(value).lower() if isinstance(value, bool) else value for key, value in cheap.items()}

    original_send_message = SQSBackend.send_message

    @functools.wraps(original_send_message)  # the recording hook below binds moto's signature
    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return original_send_message(self, *args, **kwargs)
        finally:
            _sending.active = False

    patches.replace(Queue, "attributes", property(attributes))
    patches.replace(SQSBackend, "send_message", send_message)

    # -- Authorization: every botocore call (the kit's, a handler's, a state machine task's) ----------------------
    # At the client, where the operation and its parameters are plain (moto's request path would need each
    # protocol decoded), and for every client, made before the kit started or after.
    from botocore.client import BaseClient

    from constructs_lib.testing._engine.authorizer import AccessDenied, acting
    from constructs_lib.testing._engine.faults import InjectedFault

    original_make_api_call = BaseClient._make_api_call

    def authorized(client: Any, operation_name: str, api_params: dict[str, Any]) -> None:
        """The call put to the engine (authorization, injected faults); a refusal raised as the client raises it."""
        model = client.meta.service_model
        try:
            engine.on_api_call(model.service_name, operation_name, api_params, region=client.meta.region_name)
        except AccessDenied as denied:
            code, status = refusal_code(model.service_name, str(model.protocol), kms=denied.kms)
            error = botocore_error(client, operation_name, code, status, str(denied))
            error.kit_denial = denied  # read by the task hooks below
            raise error from None
        except InjectedFault as fault:
            injected = botocore_error(client, operation_name, fault.code, fault.status, str(fault))
            injected.kit_fault = fault.states_error  # read by the task hooks below
            raise injected from None

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        authorized(self, operation_name, api_params)
        if self.meta.service_model.service_name == "lambda" and "DurableExecution" in operation_name:
            answer = _durable_api(engine, self, operation_name, api_params)
            if answer is not NOT_OURS:
                return answer
        caller = acting()
        if caller is not None and caller.via in direct_calls.KIT_CALLERS:
            answer = direct_calls.call(engine, self, operation_name, api_params)
            if answer is not direct_calls.NOT_ANSWERED:
                return answer
        return original_make_api_call(self, operation_name, api_params)

    patches.replace(BaseClient, "_make_api_call", make_api_call)

    # -- A state machine's Lambda task: the function's Invoke made in process ------------------------------------
    # moto sends a task's Invoke through botocore and its own HTTP dispatch (serialise, route, parse: most of a small
    # task's cost) only to reach the invoke hook above. For a function of the stack the task takes the short way to
    # the same places: the API-call hook's authorization and faults, moto's LambdaBackend.invoke (the qualifier
    # resolved to its version), the invoke hook (the handler run with its role, environment and timeout, recorded),
    # and the answer Lambda's Invoke gives (status, FunctionError, LogResult, the payload). Anything else (an
    # invocation type or parameter the short way does not know, a function moto does not have) goes through botocore.
    from moto.awslambda.models import lambda_backends
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    original_task_invoke = lambda_eval_utils._invoke_lambda_function

    def task_invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
        client = boto_client_module.boto_client_for(region, "lambda", state_credentials)
        answer = _invoke_in_process(engine, client, lambda_backends, parameters, authorized)
        if answer is None:
            return original_task_invoke(parameters=parameters, region=region, state_credentials=state_credentials)
        return answer

    patches.replace(lambda_eval_utils, "_invoke_lambda_function", task_invoke)

    # Step Functions names an optimized integration's error after the service SDK's exception class: the error
    # code's own class where the SDK has one (moto's names), else the service's base exception
    # ("Lambda.AWSLambdaException" for a refused lambda:InvokeFunction). moto names these by the error code, or, for
    # SQS, as a client-side failure (SQS.SdkClientException).
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb,
        state_task_service_events,
        state_task_service_lambda,
        state_task_service_sfn,
        state_task_service_sqs,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    refused_task_errors: list[tuple[Any, str, str]] = [
        (state_task_service_lambda.StateTaskServiceLambda, "Lambda.AWSLambdaException", "Lambda.AWSLambdaException"),
        (StateTaskLambda, "Lambda.AWSLambdaException", "Lambda.AWSLambdaException"),
        (state_task_service_sqs.StateTaskServiceSqs, "SQS.AmazonSQSException", "SQS.KmsAccessDeniedException"),
        (
            state_task_service_dynamodb.StateTaskServiceDynamoDB,
            "DynamoDB.AmazonDynamoDBException",
            "DynamoDB.AmazonDynamoDBException",
        ),
        (
            state_task_service_sfn.StateTaskServiceSfn,
            "StepFunctions.AWSStepFunctionsException",
            "StepFunctions.AWSStepFunctionsException",
        ),
        (
            state_task_service_events.StateTaskServiceEvents,
            "EventBridge.AmazonEventBridgeException",
            "EventBridge.AmazonEventBridgeException",
        ),
    ]
    for service_class, refused, refused_by_key in refused_task_errors:
        patches.replace(
            service_class, "_from_error", _renamed_refusal(service_class._from_error, refused, refused_by_key)
        )
    patches.replace(StateTaskServiceAwsSdk, "_from_error", _renamed_sdk_refusal(StateTaskServiceAwsSdk._from_error))

    # Every thread of a Lambda sandbox calls with the function's role: a handler's ThreadPoolExecutor runs each job
    # in the submitter's context, where the principal in scope is kept (new threads otherwise start with none).
    from concurrent.futures import ThreadPoolExecutor

    original_submit = ThreadPoolExecutor.submit

    def submit(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if acting() is None:
            return original_submit(self, fn, *args, **kwargs)
        return original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    patches.replace(ThreadPoolExecutor, "submit", submit)

    # A task's calls run with the state machine's role (or the task's Credentials): moto works it out here, in the
    # thread it starts for the task attempt, just before the task's calls.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask

    original_state_credentials = StateTask._eval_state_credentials

    def eval_state_credentials(self: Any, env: Any) -> Any:
        credentials = original_state_credentials(self, env)
        engine.on_task_role(str(credentials.role_arn))
        return credentials

    patches.replace(StateTask, "_eval_state_credentials", eval_state_credentials)

    # -- What each resource received -----------------------------------------------------------------------------
    def recording(
        owner: Any, method: str, kind: str, extract: Callable[[inspect.BoundArguments], tuple[str, Any, dict[str, Any]]]
    ) -> None:
        original = getattr(owner, method)
        signature = inspect.signature(original)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            name, payload, attributes = extract(bound)
            engine.on_delivery(kind, name, payload, attributes)
            return result

        patches.replace(owner, method, wrapper)

    recording(
        SQSBackend,
        "send_message",
        "sqs",
        lambda b: (
            b.arguments["queue_name"],
            parse_json(b.arguments["message_body"]),
            {"message_attributes": b.arguments.get("message_attributes") or {}},
        ),
    )
    recording(
        SNSBackend,
        "publish",
        "sns",
        lambda b: (
            str(b.arguments["arn"]),
            parse_json(b.arguments["message"]),
            {"subject": b.arguments.get("subject"), "message_attributes": b.arguments.get("message_attributes") or {}},
        ),
    )
    recording(
        S3Backend,
        "put_object",
        "s3",
        lambda b: (b.arguments["bucket_name"], b.arguments["key_name"], {"size": len(b.arguments["value"] or b"")}),
    )
    recording(
        DynamoDBBackend,
        "put_item",
        "dynamodb",
        lambda b: (b.arguments["table_name"], b.arguments["item_attrs"], {}),
    )
    original_put_events = EventsBackend.put_events

    def put_events(self: Any, events: list[dict[str, Any]]) -> Any:
        for entry in events:
            bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
            engine.on_delivery(
                "events",
                bus,
                parse_json(entry.get("Detail", "{}")),
                {"source": entry.get("Source"), "detail_type": entry.get("DetailType")},
            )
        return original_put_events(self, events)

    patches.replace(EventsBackend, "put_events", put_events)

    # -- service stand-ins: a test's callable answers one API operation (e.g. comprehend:DetectSentiment) --------
    # At moto's dispatch, after it decoded the request (JSON, CBOR, query...) and before its own answer: the
    # stand-in's dict (or error) is serialised by moto for the protocol the client speaks.
    from moto.core.exceptions import JsonRESTError, ServiceException
    from moto.core.responses import ActionResult, BaseResponse

    original_call_action = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        if not engine.stands_in_for(self.boto3_service_name):
            return original_call_action(self)
        answer = engine.on_service_call(self.boto3_service_name, self._get_action(), self.body)
        if answer is NOT_OURS:
            return original_call_action(self)
        if isinstance(answer, ServiceAnswerError):
            if _xml_protocol(self):
                status, headers, body = self.serialized(ActionResult(ServiceException(answer.code, answer.message)))
                headers["status"] = answer.status
                headers, body = self._enrich_response(headers, body)
                return answer.status, headers, body
            # JSON and CBOR services: moto's HTTP error path (its ServiceException serialiser fails for services
            # still on moto's older responses, comprehend among them).
            error = JsonRESTError(answer.code, answer.message)
            error.code = answer.status
            error_headers: dict[str, Any] = dict(error.get_headers() or [])
            error_headers["status"] = answer.status
            status, headers, body = self._transform_response(self.response_headers, (error.description, error_headers))
        else:
            status, headers, body = self.serialized(ActionResult(answer))
        headers, body = self._enrich_response(headers, body)
        return status, headers, body

    patches.replace(BaseResponse, "call_action", call_action)
    return patches.undo


def _durable_api(engine: KitEngine, client: Any, operation: str, params: dict[str, Any]) -> Any:
    """The kit's answer to a Lambda durable-execution call (moto has none), as botocore parses one; its refusal as
    the ``ClientError`` botocore raises for that error code."""
    from constructs_lib.testing._engine.durable import DurableApiError

    try:
        answer = engine.on_durable_api(operation, params)
    except DurableApiError as refused:
        raise botocore_error(client, operation, refused.code, refused.status, str(refused)) from None
    if answer is NOT_OURS:
        return answer
    return {**answer, "ResponseMetadata": response_metadata()}


# The error each service answers a refusal with, for the action itself and for the KMS key of an encrypted resource
# (the services' API references: SNS AuthorizationError / KMSAccessDenied, SQS AccessDenied /
# KMS.AccessDeniedException, S3 AccessDenied for both, Lambda's 403 AccessDeniedException).
_REFUSALS: dict[str, tuple[tuple[str, int], tuple[str, int]]] = {
    "sns": (("AuthorizationError", 403), ("KMSAccessDenied", 400)),
    "sqs": (("AccessDenied", 403), ("KMS.AccessDeniedException", 400)),
    "s3": (("AccessDenied", 403), ("AccessDenied", 403)),
    "lambda": (("AccessDeniedException", 403), ("AccessDeniedException", 403)),
}


def refusal_code(service: str, protocol: str, *, kms: bool) -> tuple[str, int]:
    """The error code and HTTP status a service answers an authorization refusal with: its own where it has one,
    else the protocol's (``AccessDenied`` for query and REST-XML services, ``AccessDeniedException`` for JSON)."""
    if service in _REFUSALS:
        return _REFUSALS[service][1 if kms else 0]
    if protocol in ("query", "rest-xml", "ec2"):
        return "AccessDenied", 403
    return "AccessDeniedException", 400


_TASK_INVOKE_PARAMETERS = frozenset({"FunctionName", "Payload", "Qualifier", "InvocationType", "LogType"})
_MAX_RESPONSE_BYTES = 6000000
"""moto's limit on a synchronous invocation's response (``LambdaResponse.invoke``)."""


def _invoke_in_process(
    engine: KitEngine,
    client: Any,
    backends: Any,
    parameters: dict[str, Any],
    authorized: Callable[[Any, str, dict[str, Any]], None],
) -> dict[str, Any] | None:
    """A Step Functions task's synchronous ``Invoke`` of a function of the stack, without botocore and moto's HTTP
    dispatch: the response botocore would have parsed (``StatusCode``, ``FunctionError``, ``LogResult``, the payload
    read as moto's task reads it). None when the call is not one this path answers exactly as the API would, decided
    before anything is authorized or run."""
    from moto.core.exceptions import JsonRESTError, ServiceException
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    name, qualifier, payload = parameters.get("FunctionName"), parameters.get("Qualifier"), parameters.get("Payload")
    if (
        not set(parameters) <= _TASK_INVOKE_PARAMETERS
        or not isinstance(name, str)
        or not name
        or not (qualifier is None or (isinstance(qualifier, str) and qualifier))
        or parameters.get("InvocationType", "RequestResponse") != "RequestResponse"
        or parameters.get("LogType", "None") not in ("None", "Tail")
        or not (payload is None or isinstance(payload, bytes))
    ):
        return None
    local = engine.resources.function_by_physical_name(name)
    if local is None or local.durable is not None:
        return None  # a durable function's refusals are moto's service errors: the API path names them
    try:
        backend = backends[engine.stack.account][client.meta.region_name]
        backend.get_function(name, qualifier)
    except Exception:  # the API path answers with Lambda's error (ResourceNotFoundException...)
        return None
    authorized(client, "Invoke", parameters)
    # The headers botocore sends for these parameters, and the body moto decodes.
    request_headers = {"X-Amz-Invocation-Type": "RequestResponse"} if "InvocationType" in parameters else {}
    if "LogType" in parameters:
        request_headers["X-Amz-Log-Type"] = parameters["LogType"]
    response_headers: dict[str, Any] = {}
    # From here on the call is made (authorized, a fault drawn, perhaps the handler run): never retried through
    # botocore. A refusal of moto's is raised as the botocore error the API path would raise.
    try:
        body = backend.invoke(name, qualifier, (payload or b"").decode("utf-8"), request_headers, response_headers)
    except (JsonRESTError, ServiceException) as refused:
        raise client_error(client, "Invoke", refused) from None
    if isinstance(body, str):
        body = body.encode("utf-8")
    if sys.getsizeof(body) > _MAX_RESPONSE_BYTES:
        response_headers["x-amz-function-error"] = "Unhandled"
        body = json.dumps(
            {
                "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ).encode("utf-8")
    answer: dict[str, Any] = {"StatusCode": 200}
    if "x-amz-function-error" in response_headers:
        answer["FunctionError"] = response_headers["x-amz-function-error"]
    if parameters.get("LogType") == "Tail" and "x-amz-log-result" in response_headers:
        answer["LogResult"] = response_headers["x-amz-log-result"]
    answer["Payload"] = lambda_eval_utils._from_payload(io.BytesIO(body))
    return answer


def _renamed_refusal(original: Callable[..., Any], refused: str, refused_by_key: str) -> Callable[..., Any]:
    """``_from_error`` of an optimized integration, with the kit's refusals named as Step Functions names them."""

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        failure = original(self, env=env, ex=ex)
        fault = getattr(ex, "kit_fault", None)
        if fault:  # a fault the test asked for, named as Step Functions names it (Lambda.ServiceException)
            _rename(failure, fault)
            return failure
        denied = getattr(ex, "kit_denial", None)
        if denied is None:
            return failure
        _rename(failure, refused_by_key if denied.kms else refused)
        return failure

    return from_error


# aws-sdk integrations: Step Functions names an error <Service>.<Exception>, both in PascalCase as in the AWS SDK
# for Java 2.x (supported-services-awssdk): the error code's own exception where the service models one, else the
# service's base exception (S3.S3Exception for a refused PutObjectTagging). moto keeps the SDK's lowercase service
# name and botocore's class.
_SDK_SERVICES = {
    "s3": "S3",
    "sns": "Sns",
    "sqs": "Sqs",
    "lambda": "Lambda",
    "dynamodb": "DynamoDb",
    "secretsmanager": "SecretsManager",
    "sfn": "Sfn",
    "eventbridge": "EventBridge",
    "sagemakerruntime": "SageMakerRuntime",
    "comprehend": "Comprehend",
    "kms": "Kms",
    "ssm": "Ssm",
    "cloudwatchlogs": "CloudWatchLogs",
}
_SDK_MODELED_REFUSALS = {
    ("sns", "AuthorizationError"): "AuthorizationErrorException",
    ("sns", "KMSAccessDenied"): "KmsAccessDeniedException",
    ("sqs", "KMS.AccessDeniedException"): "KmsAccessDeniedException",
    ("eventbridge", "AccessDeniedException"): "AccessDeniedException",
    ("ssm", "AccessDeniedException"): "AccessDeniedException",
    ("cloudwatchlogs", "AccessDeniedException"): "AccessDeniedException",
}


def _renamed_sdk_refusal(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_from_error`` of the aws-sdk integration, with the kit's refusals named as Step Functions names them."""

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        failure = original(self, env=env, ex=ex)
        if getattr(ex, "kit_denial", None) is None:
            return failure
        api = str(self.resource.api_name).lower()
        service = _SDK_SERVICES.get(api, api[:1].upper() + api[1:])
        code = str(getattr(ex, "response", {}).get("Error", {}).get("Code", ""))
        name = f"{service}.{_SDK_MODELED_REFUSALS.get((api, code), service + 'Exception')}"
        _rename(failure, name)
        return failure

    return from_error


def _rename(failure: Any, name: str) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName

    failure.error_name = CustomErrorName(name)
    for details in (failure.event_details or {}).values():
        if isinstance(details, dict) and "error" in details:
            details["error"] = name


def _fix_heap_keys(program: Any) -> None:
    """Give every component of a parsed program its ``heap_key`` now. moto draws it at random on first read, the
    key of the component's per-execution values (a Retry's attempt count) in each execution's heap: two executions
    reading it first at once could each draw one, and the loser's attempt count would be lost."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (list, tuple, set, frozenset)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, Component):
            if isinstance(item, EvalComponent):
                _ = item.heap_key
            pending.extend(vars(item).values())


def _where(env: Any) -> tuple[str, str]:
    try:
        data = env.states.context_object.context_object_data
        return str(data["Execution"]["Id"]), str(data["State"]["Name"])
    except (AttributeError, KeyError, TypeError):
        return "", ""


def _xml_protocol(response: Any) -> bool:
    from moto.core.utils import get_service_model

    return str(get_service_model(response.boto3_service_name).protocol) in ("query", "rest-xml", "ec2")
