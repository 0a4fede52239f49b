"""The machinery behind ``LocalKit``: moto started with the kit's hooks, the stack stood up, and the stack run until
it is quiet again (executions ended, asynchronous invocations delivered, event sources drained).

moto calls back into the engine's ``on_*`` methods (see ``moto_hooks``); each delivery concern has its own module:
asynchronous invocation (``async_invoke``), SQS event sources (``event_sources``), EventBridge targets
(``rule_targets``), executions (``executions``) and the test's stand-ins (``stand_ins``). Every call made for a
principal goes through ``KitEngine.authorize`` (see ``authorizer``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine import moto_hooks, quiet_logs
from constructs_lib.testing._engine.api_access import api_access
from constructs_lib.testing._engine.async_invoke import AsyncInvoker
from constructs_lib.testing._engine.authorizer import (
    AccessDenied,
    AccessRequest,
    AllowAll,
    Authorizer,
    act_as,
    acting,
    acting_as,
)
from constructs_lib.testing._engine.authz import PolicyStore
from constructs_lib.testing._engine.batch_jobs import BatchJobReport, BatchJobRunner, stack_jobs
from constructs_lib.testing._engine.botocore_answers import client_error
from constructs_lib.testing._engine.clients import shared_client
from constructs_lib.testing._engine.code_server import (
    CERT_FILE_VARIABLE,
    CodeDownload,
    CodeServer,
    KitCertificates,
    trust_handler_bundles,
)
from constructs_lib.testing._engine.enforcement import IamMode, PolicyAuthorizer
from constructs_lib.testing._engine.event_shapes import complete_s3_records, sns_event
from constructs_lib.testing._engine.event_sources import SqsPoller
from constructs_lib.testing._engine.executions import Executions
from constructs_lib.testing._engine.faults import FaultInjector, Faults, InjectedFault, duplicating, is_duplicate
from constructs_lib.testing._engine.lambda_runtime import (
    Invocation,
    LayeredEnviron,
    LocalFunction,
    install_thread_inheritance,
)
from constructs_lib.testing._engine.resources import StackResources, stand_up
from constructs_lib.testing._engine.rule_targets import RuleTargets
from constructs_lib.testing._engine.stand_ins import StandIns
from constructs_lib.testing._engine.stream_sources import StreamPoller
from constructs_lib.testing._engine.template import SynthesizedStack
from constructs_lib.testing.errors import KitError
from constructs_lib.testing.results import AccessDenial, Delivery, parse_json

if TYPE_CHECKING:
    from constructs_lib.testing._engine.durable import DurableService
    from constructs_lib.testing.kit import EndpointHandler, ServiceHandler

_ACTIVE: KitEngine | None = None
_ACTIVE_LOCK = threading.Lock()
MOTO_ACCOUNT_VARIABLE = "MOTO_ACCOUNT_ID"
"""The variable moto reads the account of every request from (when credentials name none)."""


class KitEngine:
    """One synthesized stack on moto, with everything AWS would do between the calls a test makes."""

    def __init__(
        self,
        stack: SynthesizedStack,
        *,
        endpoints: Mapping[str, EndpointHandler],
        services: Mapping[str, ServiceHandler],
        parameters: Mapping[str, str] | None,
        imports: Mapping[str, str] | None,
        validate_asl: bool,
        execution_timeout: float,
        max_receives: int,
        max_rounds: int,
        iam: IamMode = "enforce",
        faults: Faults | None = None,
        duration_factors: Mapping[str, float] | None = None,
    ) -> None:
        self.stack = stack
        self.duration_factors: dict[str, float] = dict(duration_factors or {})
        """The kit's speed model: an architecture's REPORT Duration is the measured time times its factor."""
        self.certificates: KitCertificates | None = None
        """The kit's throwaway certificate authority (made at start), which handlers trust through SSL_CERT_FILE."""
        self._code_server: CodeServer | None = None
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self.iam: IamMode = iam
        self.authorizer: Authorizer = AllowAll()
        """Asked before every call the kit makes for a principal (see ``authorize``). Unless something else was put
        here before ``start``, it becomes the template's policies (``iam="enforce"`` or ``"warn"``) once the stack
        stands."""
        self._default_authorizer = self.authorizer
        self.denials: list[AccessDenial] = []
        self.lock = threading.RLock()
        """Guards what handler threads and moto's execution threads share with the test's thread."""
        self.faults = FaultInjector(faults, self.lock)
        """The faults the test asked for (and the template's reserved concurrency)."""
        self.stand_ins = StandIns(self, endpoints, services)
        self.async_invokes = AsyncInvoker(self)
        self.event_sources = SqsPoller(self, max_receives)
        self.stream_sources = StreamPoller(self)
        self.targets = RuleTargets(self)
        self.executions = Executions(self, execution_timeout)
        self._parameters = parameters
        self._imports = imports
        self._validate_asl = validate_asl
        self._max_rounds = max_rounds
        self._deliveries: list[Delivery] = []
        self._clients: dict[tuple[str, bool], Any] = {}
        self._saved_path: list[str] | None = None
        self._saved_dont_write_bytecode: bool | None = None
        self._undo: Callable[[], None] | None = None
        self._mock: Any = None
        self._environ: LayeredEnviron | None = None
        self._saved_moto_account: str | None = None
        self._resources: StackResources | None = None
        self._execution_timeout = execution_timeout
        self._durable: DurableService | None = None
        self._undo_durable: Callable[[], None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start moto, install the hooks and stand the stack up."""
        global _ACTIVE  # noqa: PLW0603 - one engine owns moto's hooks at a time
        from moto.utilities.utils import get_partition

        partition = get_partition(self.stack.region)
        if partition != "aws":
            # The kit names what it makes arn:aws:... (and AWS::Partition "aws"); moto names these regions' ARNs
            # otherwise, and a policy would never match the resources it grants.
            raise KitError(
                f"the local kit runs stacks of the aws partition only: {self.stack.region} is in {partition}. "
                "Synthesize the stack for a commercial region to test it locally "
                "(env=cdk.Environment(region='us-east-1'))"
            )
        with _ACTIVE_LOCK:
            if _ACTIVE is not None:
                raise KitError("another LocalKit is running in this process; run one at a time (`with` blocks)")
            _ACTIVE = self
        try:
            from moto import mock_aws

            # Handler code is imported from the asset folders, which may be a cdk.out/ that `cdk deploy` ships:
            # no __pycache__ may be left there.
            self._saved_dont_write_bytecode = sys.dont_write_bytecode
            sys.dont_write_bytecode = True
            self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            self._mock.start()
            self._environ = LayeredEnviron(os.environ)
            os.environ = self._environ  # type: ignore[assignment]  # noqa: B003 - a layered view, not a new environment
            # moto makes everything in the account this names (else its default): the stack's, so that the ARNs moto
            # gives and the backends the kit reads are in the account the template targets. Handlers inherit it.
            self._saved_moto_account = self._environ.base.get(MOTO_ACCOUNT_VARIABLE)
            self._environ.base[MOTO_ACCOUNT_VARIABLE] = self.stack.account
            undo_hooks, undo_logs = moto_hooks.install(self), quiet_logs.install()
            undo_threads = install_thread_inheritance(self._environ)
            self.certificates = KitCertificates.make()
            undo_trust = trust_handler_bundles(self._environ)

            def undo() -> None:
                undo_trust()
                undo_threads()
                undo_logs()
                undo_hooks()

            self._undo = undo
            self._resources = stand_up(
                self.stack,
                clients=self.client,
                parameters=self._parameters,
                imports=self._imports,
                validate_asl=self._validate_asl,
            )
            self.warnings.extend(self._resources.warnings)
            for function in self._resources.functions.values():
                function.kit_variables = {CERT_FILE_VARIABLE: str(self.certificates.bundle)}
            self.faults.bind(self._resources)
            if self.iam != "off" and self.authorizer is self._default_authorizer:
                # Built from the template with the kit's own resolver: every ARN in a policy is the ARN of what the
                # kit made, so requests and policies name the same resources.
                store = PolicyStore.from_template(
                    self.stack.template, self._resources.resolve, account=self.stack.account, region=self.stack.region
                )
                self.authorizer = PolicyAuthorizer(
                    store, enforce=self.iam == "enforce", on_denial=self._denied, on_warning=self.warn_once
                )
            # Imports a handler makes while it runs find its asset folders (the load itself puts its own first).
            self._saved_path = list(sys.path)
            for function in self._resources.functions.values():
                sys.path.extend(str(path) for path in function.code_dirs if str(path) not in sys.path)
            self.stand_ins.name_endpoints()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Wait for timed-out handlers, undo the hooks, give ``os.environ`` back and stop moto.

        Every step runs even when one before it raises (the first error is raised at the end): a kit that failed to
        stop cleanly must not leave moto, its patches or its environment installed for the next kit."""
        errors: list[BaseException] = []
        for step in (
            self._join_stragglers,
            self._close_durable,
            self._close_code_server,
            self._restore_interpreter,
            self._undo_hooks,
            self._restore_environ,
            self._stop_mock,
            self._release,
        ):
            try:
                step()
            except Exception as error:  # the rest must still run; raised below
                errors.append(error)
        if errors:
            raise errors[0]

    def _join_stragglers(self) -> None:
        if self._resources is None:
            return
        for function in self._resources.functions.values():
            function.close()
            for thread in function.stragglers:
                thread.join(timeout=max(1.0, function.timeout_seconds))
                if thread.is_alive():
                    self.warnings.append(f"{function.logical_id}: a timed-out handler still runs after the kit")
        for folder in self._resources.temporary_dirs:
            shutil.rmtree(folder, ignore_errors=True)

    def _close_durable(self) -> None:
        durable, self._durable = self._durable, None
        undo, self._undo_durable = self._undo_durable, None
        try:
            if durable is not None:
                durable.close()
        finally:
            if undo is not None:
                undo()

    def _close_code_server(self) -> None:
        server, self._code_server = self._code_server, None
        certificates, self.certificates = self.certificates, None
        try:
            if server is not None:
                server.close()
        finally:
            if certificates is not None:
                shutil.rmtree(certificates.folder, ignore_errors=True)

    @property
    def code_server(self) -> CodeServer:
        """The server of GetFunction's code locations (made on first use)."""
        with self.lock:
            if self._code_server is None:
                if self.certificates is None:
                    raise KitError("the kit is not running: use `with LocalKit.from_stack(stack) as kit:`")
                self._code_server = CodeServer(self.certificates, account=self.stack.account)
            return self._code_server

    def code_downloads(self) -> list[CodeDownload]:
        """The requests the code server answered (none when it never started)."""
        with self.lock:
            server = self._code_server
        return [] if server is None else server.served()

    def code_location(self, function_name: str, package: bytes) -> str:
        """GetFunction's ``Code.Location`` for a function's .zip file: a presigned URL the kit serves."""
        return self.code_server.location(function_name, package)

    def _restore_interpreter(self) -> None:
        if self._saved_dont_write_bytecode is not None:
            sys.dont_write_bytecode = self._saved_dont_write_bytecode
            self._saved_dont_write_bytecode = None
        if self._saved_path is not None:
            sys.path[:] = self._saved_path
            self._saved_path = None

    def _undo_hooks(self) -> None:
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    def _restore_environ(self) -> None:
        if self._environ is not None:
            if self._saved_moto_account is None:
                self._environ.base.pop(MOTO_ACCOUNT_VARIABLE, None)
            else:
                self._environ.base[MOTO_ACCOUNT_VARIABLE] = self._saved_moto_account
            os.environ = self._environ.base  # type: ignore[assignment]  # noqa: B003 - the original object back
            self._environ = None

    def _stop_mock(self) -> None:
        mock, self._mock = self._mock, None
        if mock is not None:
            mock.stop()

    def _release(self) -> None:
        global _ACTIVE  # noqa: PLW0603
        self._clients.clear()
        with _ACTIVE_LOCK:
            if _ACTIVE is self:
                _ACTIVE = None

    @property
    def environ(self) -> LayeredEnviron | None:
        """``os.environ`` while the kit runs (a layer per handler thread)."""
        return self._environ

    @property
    def durable(self) -> DurableService:
        """The in-process durable execution service (made on first use)."""
        with self.lock:
            if self._durable is None:
                from constructs_lib.testing._engine.durable import DurableService, install_prompt_stop

                self._undo_durable = install_prompt_stop()
                self._durable = DurableService(self, wait_seconds=self._execution_timeout)
            return self._durable

    def durable_results(self) -> list[Any]:
        return [] if self._durable is None else self._durable.results()

    @property
    def resources(self) -> StackResources:
        if self._resources is None:
            raise KitError("the kit is not running: use `with LocalKit.from_stack(stack) as kit:`")
        return self._resources

    def client(self, service: str, *, single_attempt: bool = False) -> Any:
        """A boto3 client for moto, in the stack's region (looked up once, under a lock: any thread may ask);
        ``single_attempt``: botocore retries nothing."""
        key = (service, single_attempt)
        with self.lock:
            if key not in self._clients:
                self._clients[key] = shared_client(service, self.stack.region, single_attempt=single_attempt)
            return self._clients[key]

    # -- running -------------------------------------------------------------------------------------------------
    def run(
        self,
        local: LocalFunction,
        event: Any,
        source: str,
        request_id: str | None = None,
        *,
        version: str = "$LATEST",
        memory_mb: int | None = None,
        qualifier: str | None = None,
        architecture: str | None = None,
    ) -> Invocation:
        """Run a function's handler once (recorded as a delivery to the function); a durable function's invocation
        is a durable execution, run to its end (``qualifier``: what was invoked, default ``version``;
        ``architecture``: the version's, default what moto holds for it)."""
        assert self._environ is not None
        self.record("lambda", local.arn, event, {"source": source})
        if self.faults.target_fails(local.logical_id):
            failed = self.faults.failed_invocation(local, event, source, request_id or str(uuid.uuid4()))
            local.invocations.append(failed)
            return failed
        if local.durable is not None:
            invocation, _ = self.durable.execute(
                local,
                event,
                qualifier=qualifier or version,
                version=version,
                memory_mb=memory_mb,
                # Every caller but Lambda's own asynchronous queue waits for the execution's end.
                synchronous=not source.startswith("async:"),
            )
            return invocation
        architecture = architecture or self.architecture(local, version)
        return local.run(
            event,
            environ=self._environ,
            source=source,
            request_id=request_id,
            version=version,
            memory_mb=memory_mb,
            architecture=architecture,
            duration_factor=self.duration_factors.get(architecture, 1.0),
        )

    @staticmethod
    def architecture(local: LocalFunction, version: str) -> str:
        """The architecture of ``version`` of ``local`` as moto holds it (UpdateFunctionCode may have changed
        ``$LATEST``'s; a published version keeps its own)."""
        from moto.awslambda.models import lambda_backends

        _, _, _, region, account, _, name = local.arn.split(":")[:7]
        try:
            found = lambda_backends[account][region].get_function(name, None if version == "$LATEST" else version)
        except Exception:  # deleted meanwhile: the template's
            return local.architecture
        return moto_hooks.architecture_of(found)

    def qualified(self, local: LocalFunction, qualifier: str | None) -> tuple[str, str, int | None]:
        """(qualifier, version, memory) of an invoke of ``local`` as ``qualifier`` (a version, an alias or
        ``$LATEST``; None: unqualified, which a durable function refuses as Lambda does)."""
        if qualifier is None:
            if local.durable is not None:
                raise KitError(
                    f"{local.logical_id}: InvalidParameterValueException: You cannot invoke a durable function using "
                    "an unqualified ARN; give qualifier= (the alias, say 'live', or a version)"
                )
            return "$LATEST", "$LATEST", None
        if qualifier == "$LATEST" or qualifier.isdigit():
            return qualifier, qualifier, None
        with acting_as(None):
            alias = self.client("lambda").get_alias(FunctionName=local.name, Name=qualifier)
        return qualifier, str(alias["FunctionVersion"]), None

    def settle(self) -> None:
        """Run until the stack is quiet: executions ended, asynchronous events delivered, queues drained."""
        for _ in range(self._max_rounds):
            progressed = self.executions.await_all()
            progressed = self.async_invokes.drain() or progressed
            progressed = self.event_sources.poll_all() or progressed
            progressed = self.stream_sources.poll_all() or progressed
            if not progressed:
                return
        raise KitError(f"the stack did not go quiet after {self._max_rounds} rounds: does something trigger itself?")

    def start_execution(self, state_machine_arn: str, input_text: str, name: str | None = None) -> str:
        """Start an execution; returns its ARN."""
        if name is None and acting() is None and not self.stands_in_for("stepfunctions"):
            return self._start_in_process(state_machine_arn, input_text)
        started = self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, input=input_text, name=name or str(uuid.uuid4())
        )
        return str(started["executionArn"])

    def _start_in_process(self, state_machine_arn: str, input_text: str) -> str:
        """The test's own StartExecution under a fresh name, made the way moto's StartExecution handler makes it
        (its backend's ``start_execution``) without botocore and moto's HTTP dispatch, a third of a short
        execution's time. Nothing here is authorized (the test acts as no principal) and a fresh UUID is a name
        botocore and Step Functions accept. moto's refusal (no such state machine, input that is not JSON) is
        raised as botocore's error of that name."""
        from moto.core.exceptions import JsonRESTError, ServiceException
        from moto.stepfunctions.responses import get_backend

        backend = get_backend(self.stack.account, self.stack.region)
        try:
            execution = backend.start_execution(state_machine_arn, str(uuid.uuid4()), input_text)
        except (JsonRESTError, ServiceException) as refused:
            raise client_error(self.client("stepfunctions"), "StartExecution", refused) from None
        return str(execution.execution_arn)

    def put_events(self, entries: list[dict[str, Any]]) -> None:
        """Put events on buses as their source would: through moto's backend, which takes AWS sources
        (``aws.s3``, ``aws.states``) that the API refuses from a caller."""
        self.events_backend().put_events(entries)

    def events_backend(self) -> Any:
        from moto.events.models import events_backends

        return events_backends[self.stack.account][self.stack.region]

    def queue_url(self, arn: str) -> str:
        """A queue's URL: a queue of the stack's from what the kit made (moto's ``GetQueueUrl`` takes about 10 ms)."""
        logical_id = self.resources.resource_by_physical(arn)
        if logical_id is not None and self.resources.types.get(logical_id) == "AWS::SQS::Queue":
            return self.resources.physical[logical_id].ref
        # The kit's own lookup, never the principal's (it may be asked inside a handler's thread).
        with acting_as(None):
            return str(self.client("sqs").get_queue_url(QueueName=arn.rsplit(":", maxsplit=1)[-1])["QueueUrl"])

    def queue_messages(self, queue_name: str) -> list[Any]:
        """The messages on a queue now (not received, so not consumed), bodies parsed as JSON where they are JSON."""
        from moto.sqs.models import sqs_backends

        found = sqs_backends[self.stack.account][self.stack.region].get_queue(queue_name)
        return [parse_json(message.body) for message in list(found._messages)]

    def run_batch_job(self, job: str | None, *, max_attempts: int) -> BatchJobReport:
        jobs = stack_jobs(self.resources)
        if job is not None:
            jobs = {name: spec for name, spec in jobs.items() if job in name}
        if len(jobs) != 1:
            known = ", ".join(sorted(stack_jobs(self.resources))) or "none"
            raise KitError(f"{len(jobs)} S3 Batch Operations jobs match {job!r}; the stack has: {known}")
        (spec,) = jobs.values()
        # S3 Batch Operations reads the manifest, invokes the function and writes the report with the job's role.
        role = str(spec.get("RoleArn", ""))
        function_arn = str(spec.get("Operation", {}).get("LambdaInvoke", {}).get("FunctionArn", ""))

        def invoke(local: LocalFunction, event: Any) -> Invocation:
            self.authorize(role, "lambda:InvokeFunction", function_arn, via="s3-batch")
            invocation = self.run(local, event, "s3-batch")
            # A task may run more than once (a retried TemporaryFailure, a timeout after the work was done): with
            # Faults.duplicate_rate the kit runs it again; the job keeps the first answer.
            if self.faults.duplicates(f"s3-batch:{local.logical_id}", event):
                with duplicating():
                    self.run(local, event, "s3-batch")
            return invocation

        runner = BatchJobRunner(self.resources, spec, s3=self.client("s3"), invoke=invoke, max_attempts=max_attempts)
        with acting_as(role, via="s3-batch"):
            return runner.run()

    # -- authorization -------------------------------------------------------------------------------------------
    def authorize(self, principal: str, action: str, resource: str, *, source_arn: str | None = None, via: str) -> None:
        """Put one call made for ``principal`` to the authorizer: every such call of the kit comes through here.

        ``source_arn``: the resource a service principal acts for; its account is the ``aws:SourceAccount`` (the
        stack's account for an S3 bucket, whose ARN names none). Raises ``AccessDenied`` when the authorizer
        refuses it.
        """
        source_account = None
        if source_arn is not None:
            fields = source_arn.split(":")
            source_account = fields[4] if len(fields) > 5 and fields[4] else self.stack.account
        request = AccessRequest(
            principal, action, resource, source_arn=source_arn, source_account=source_account, via=via
        )
        self.authorizer.authorize(request)

    def permits(self, principal: str, action: str, resource: str, *, source_arn: str | None = None, via: str) -> bool:
        """``authorize`` for a delivery that fails silently on AWS: a refusal is a warning, and ``False``."""
        try:
            self.authorize(principal, action, resource, source_arn=source_arn, via=via)
        except AccessDenied as denied:
            self.warn_once(f"{via}: {denied} (not delivered)")
            return False
        return True

    def warn_once(self, text: str) -> None:
        """Add a warning, unless the same one was given before."""
        with self.lock:
            if text not in self._warned:
                self._warned.add(text)
                self.warnings.append(text)

    def _denied(self, denial: AccessDenial) -> None:
        with self.lock:
            self.denials.append(denial)
        if not denial.enforced:
            self.warn_once(f"access denied ({denial.via}), let through by iam='warn': {denial.message}")

    def call(
        self,
        principal: str,
        service: str,
        operation: str,
        /,
        *,
        source_arn: str | None = None,
        via: str,
        sdk_retries: bool = True,
        **params: Any,
    ) -> Any:
        """Make an API call for ``principal`` (``operation``: the client's method, ``send_message``): the API-call
        hook authorizes it (``on_api_call``); a refusal raises botocore's ``ClientError`` (``AccessDenied``).

        ``sdk_retries=False``: one attempt, for a caller that retries on its own terms (EventBridge's retry policy).
        """
        client = self.client(service, single_attempt=not sdk_retries)
        with acting_as(principal, source_arn=source_arn, via=via):
            return getattr(client, operation)(**params)

    # -- what was delivered --------------------------------------------------------------------------------------
    def record(self, kind: str, name: str, payload: Any, attributes: Mapping[str, Any]) -> None:
        """Record that the resource ``name`` (a ref, ARN or name) received ``payload``."""
        if self._resources is None:
            return  # the stand-up's own calls (AwsCustomResource SDK calls) are not deliveries
        resource = name if name == "default" else self._resources.resource_by_physical(name) or name
        with self.lock:
            self._deliveries.append(
                Delivery(resource=resource, kind=kind, payload=payload, attributes=attributes, duplicate=is_duplicate())
            )

    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self._deliveries)

    # -- moto's callbacks (through moto_hooks) -------------------------------------------------------------------
    def on_api_call(self, service: str, operation: str, params: Mapping[str, Any], *, region: str) -> None:
        """Any botocore client's call, in the caller's thread: authorized for the principal in scope, if any."""
        current = acting()
        if current is None:
            return  # the test's or the kit's own call
        access = api_access(service, operation, params, region=region, account=self.stack.account)
        for action, resource in access:
            self.authorize(current.principal, action, resource, source_arn=current.source_arn, via=current.via)
        self._inject_faults(service, operation, params, access, via=current.via)

    def _inject_faults(self, service: str, operation: str, params: Mapping[str, Any], access: Any, *, via: str) -> None:
        """Raise the fault the test asked for on an authorized call made for a principal, if any (``InjectedFault``:
        the API-call hook raises it as botocore's ``ClientError``)."""
        if service == "lambda" and operation == "Invoke":
            local = self.resources.function_by_physical_name(str(params.get("FunctionName", "")))
            if local is not None and params.get("InvocationType", "RequestResponse") == "RequestResponse":
                self.faults.on_lambda_invoke(local, params.get("Payload"), from_task=via == "state-machine-task")
            return  # a function that fails its first invocations fails in ``run``
        if not self.faults.targets_fail:
            return
        for _action, resource in access:
            logical_id = self.resources.resource_by_physical(resource)
            if self.faults.target_fails(logical_id):
                raise InjectedFault(
                    "InternalFailure", 500, f"injected by the kit's faults: {logical_id} fails its first deliveries"
                )

    def on_task_role(self, role_arn: str) -> None:
        """A state machine task is about to run in this thread (one per task attempt) with ``role_arn``."""
        act_as(role_arn, via="state-machine-task")

    def on_sns_subscription(self, subscription: Any) -> bool:
        """Whether SNS may deliver to a queue or function subscription (it does so as ``sns.amazonaws.com``)."""
        action = "lambda:InvokeFunction" if subscription.protocol == "lambda" else "sqs:SendMessage"
        return self.permits(
            "sns.amazonaws.com",
            action,
            str(subscription.endpoint),
            source_arn=subscription.topic.arn,
            via="sns-subscription",
        )

    def on_sns_refused(self, subscription: Any, envelope: Mapping[str, Any]) -> None:
        """A delivery the endpoint's policy refused: a client error, which SNS sends to the subscription's
        dead-letter queue (its redrive policy) when it has one, else drops."""
        redrive = parse_json(subscription.attributes.get("RedrivePolicy") or "{}")
        dead_letter = redrive.get("deadLetterTargetArn") if isinstance(redrive, dict) else None
        if not dead_letter:
            self.warn_once(
                f"SNS delivery to {subscription.endpoint} refused: the subscription has no dead-letter queue"
            )
            return
        try:
            self.call(
                "sns.amazonaws.com",
                "sqs",
                "send_message",
                source_arn=subscription.topic.arn,
                via="sns-subscription-dead-letter",
                QueueUrl=self.queue_url(str(dead_letter)),
                MessageBody=json.dumps(envelope),
            )
        except Exception as error:
            self.warnings.append(f"SNS delivery to {subscription.endpoint}: its dead-letter queue failed too: {error}")

    def on_s3_notification(self, action: str, resource: str, event: Any) -> bool:
        """Whether S3 may send a bucket notification to a queue, topic or function (as ``s3.amazonaws.com``)."""
        return self.permits("s3.amazonaws.com", action, resource, source_arn=_bucket_arn(event), via="s3-notification")

    def on_lambda_invoke(
        self,
        function_name: str,
        body: Any,
        invocation_type: str,
        log_tail: bool,
        *,
        version: str = "$LATEST",
        memory_mb: int | None = None,
        qualifier: str | None = None,
        architecture: str | None = None,
    ) -> Any:
        """A Lambda ``Invoke`` of ``function_name``; ``version``, ``memory_mb`` and ``architecture`` are those of the
        invoked qualifier (moto's object of that version), ``qualifier`` what was invoked (``$LATEST``, a version or
        an alias; None: unqualified, which a durable function refuses)."""
        local = self.resources.function_by_physical_name(function_name)
        if local is None:
            return moto_hooks.NOT_OURS
        if local.durable is not None and qualifier is None:
            from moto.awslambda.exceptions import InvalidParameterValueException

            raise InvalidParameterValueException("You cannot invoke a durable function using an unqualified ARN.")
        qualifier = qualifier or "$LATEST"
        event = {} if body is None or body in ("", b"") else parse_json(body)
        if invocation_type == "Event":
            self.async_invokes.enqueue(
                local, event, "invoke", qualifier=qualifier, version=version, memory_mb=memory_mb
            )
            return moto_hooks.InvokeAnswer(payload=b"")
        if invocation_type == "DryRun":
            return moto_hooks.InvokeAnswer(payload=b"")
        memory = memory_mb or local.memory_mb
        invocation = self.run(
            local, event, "invoke", version=version, memory_mb=memory, qualifier=qualifier, architecture=architecture
        )
        return moto_hooks.InvokeAnswer(
            payload=json.dumps(invocation.payload).encode(),
            function_error=None if invocation.succeeded else "Unhandled",
            log_result=invocation.log_tail(memory) if log_tail else None,
        )

    def on_sns_to_lambda(
        self,
        subscription: Any,
        message: str,
        message_id: str,
        subject: str | None,
        message_attributes: dict[str, Any] | None,
    ) -> None:
        """SNS invokes a subscribed function asynchronously with the SNS event."""
        local = self.resources.function_by_physical_name(str(subscription.endpoint))
        if local is None:
            self.warnings.append(f"SNS delivery to {subscription.endpoint}: not a function of this stack")
            return
        event = sns_event(
            message,
            message_id,
            subscription_arn=subscription.arn,
            topic_arn=subscription.topic.arn,
            subject=subject,
            message_attributes=message_attributes,
        )
        try:
            self.service_invoke(local, str(subscription.endpoint), event, "sns")
        except KitError as refused:
            self.warnings.append(f"SNS delivery to {subscription.endpoint}: {refused}")

    def service_invoke(self, local: LocalFunction, function_arn: str, event: Any, source: str) -> None:
        """A service's asynchronous invoke (SNS, S3, EventBridge) of the function, version or alias that its
        subscription, notification or target names (``function_arn``): that qualifier's settings and version. An
        unqualified invoke of a durable function is refused (KitError), as Lambda refuses it."""
        fields = function_arn.split(":")
        named = fields[7] if function_arn.startswith("arn:") and len(fields) > 7 else None
        if named is None and local.durable is None:
            self.async_invokes.enqueue(local, event, source)
            return
        qualifier, version, memory_mb = self.qualified(local, named)
        self.async_invokes.enqueue(local, event, source, qualifier=qualifier, version=version, memory_mb=memory_mb)

    def on_rule_match(self, rule: Any, event: dict[str, Any]) -> None:
        # At least once: a duplicate goes to every target of the rule again.
        self.faults.at_least_once(f"events:{rule.arn}", event, lambda: self.targets.deliver(rule, event))

    def on_s3_to_lambda(self, event: Any, function_arn: str) -> None:
        """S3 invokes a function asynchronously with the event of a bucket notification."""
        complete_s3_records(event, self.stack.account)
        local = self.resources.function_by_physical_name(function_arn)
        if local is None:
            self.warnings.append(f"S3 notification to {function_arn}: not a function of this stack")
            return
        if self.on_s3_notification("lambda:InvokeFunction", function_arn, event):
            try:
                self.service_invoke(local, function_arn, event, "s3")
            except KitError as refused:
                self.warnings.append(f"S3 notification to {function_arn}: {refused}")

    def on_sagemaker_invoke(self, endpoint_name: str, body: bytes, content_type: str, accept: str | None) -> Any:
        return self.stand_ins.invoke_endpoint(endpoint_name, body, content_type, accept)

    def stands_in_for(self, service: str) -> bool:
        return self.stand_ins.stands_in_for(service)

    def on_service_call(self, service: str, operation: str, body: Any) -> Any:
        return self.stand_ins.call(service, operation, body)

    def on_delivery(self, kind: str, name: str, payload: Any, attributes: dict[str, Any]) -> None:
        self.record(kind, name, payload, attributes)

    def on_durable_api(self, operation: str, params: Mapping[str, Any]) -> Any:
        """A Lambda API call on a durable execution (``GetDurableExecution``, ``StopDurableExecution``), after it
        was authorized: the kit's answer, or ``NOT_OURS`` for any other operation."""
        from constructs_lib.testing._engine.durable import API_OPERATIONS

        if operation not in API_OPERATIONS:
            return moto_hooks.NOT_OURS
        return self.durable.call(operation, dict(params))

    def on_virtual_wait(self, execution_arn: str, state: str, seconds: float, kind: str) -> None:
        self.executions.record_wait(execution_arn, state, seconds, kind)


def _bucket_arn(event: Any) -> str | None:
    """The bucket of an S3 notification: its event records', or a test event's ``Bucket``."""
    if not isinstance(event, dict):
        return None
    records = event.get("Records") or [{}]
    arn = records[0].get("s3", {}).get("bucket", {}).get("arn")
    if arn is None and "Bucket" in event:
        arn = f"arn:aws:s3:::{event['Bucket']}"
    return None if arn is None else str(arn)
