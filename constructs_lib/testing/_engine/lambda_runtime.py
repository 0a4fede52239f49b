"""Run a Lambda function's real handler in process, the way the Python runtime does.

Each function gets its own copy of its handler module (loaded from its asset folder and layers, with the
function's environment, so module-level reads of ``os.environ`` see that function's values), a Lambda-like
context, its timeout enforced, the runtime's error shape (``errorType`` is the exception's class name), and its
execution role for the API calls it makes.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import importlib
import json
import math
import os
import queue
import resource
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType, TracebackType
from typing import Any

from constructs_lib.testing._engine.authorizer import acting_as

_IMPORT_LOCK = threading.RLock()


class LayeredEnviron(MutableMapping[str, str]):
    """``os.environ`` with a per-thread layer: a handler thread sees its function's environment only.

    Installed as ``os.environ`` while a kit runs, so that handlers running at the same time (Parallel and Map
    states) each read their own function's variables, as they would in their own Lambda sandboxes.
    """

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self._local = threading.local()

    def _current(self) -> MutableMapping[str, str]:
        layer: dict[str, str] | None = getattr(self._local, "layer", None)
        return self.base if layer is None else layer

    def push_layer(self, layer: dict[str, str]) -> None:
        self._local.layer = layer

    def current_layer(self) -> dict[str, str] | None:
        """This thread's layer (a handler thread's function environment), or None outside handlers."""
        layer: dict[str, str] | None = getattr(self._local, "layer", None)
        return layer

    def pop_layer(self) -> None:
        self._local.layer = None

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def copy(self) -> dict[str, str]:
        return dict(self._current())

    def __or__(self, other: Mapping[str, str]) -> dict[str, str]:
        return {**self._current(), **other}

    def __ror__(self, other: Mapping[str, str]) -> dict[str, str]:
        return {**other, **self._current()}


_SERVICE_THREAD_MODULES = (
    "aws_durable_execution_sdk_python_testing",
    "moto",
    "constructs_lib.testing._engine.code_server",
)
"""Threads whose code is the kit's stand-in services (moto's, the durable execution testing service's, the kit's
code server), not the function's: they never inherit a handler's environment or role, even when a handler's call
starts them."""


def install_thread_inheritance(environ: LayeredEnviron) -> Callable[[], None]:
    """Threads a handler starts inherit its environment layer and its context (the role its API calls are made
    with), as threads in a Lambda sandbox share the sandbox's environment and credentials; returns the undo.

    The durable execution SDK runs the handler's code in worker threads (the handler, parallel branches, map
    items): without this their ``os.environ`` would be the test's and their API calls nobody's.
    """
    original = threading.Thread.start

    def start(self: threading.Thread) -> None:
        layer = environ.current_layer()
        target = getattr(self, "_target", None)
        module = str(getattr(target, "__module__", "") or "")
        if layer is not None and not module.startswith(_SERVICE_THREAD_MODULES):
            context = contextvars.copy_context()
            run = self.run

            def run_inherited() -> None:
                environ.push_layer(layer)
                try:
                    context.run(run)
                finally:
                    environ.pop_layer()

            self.run = run_inherited  # type: ignore[method-assign]
        original(self)

    threading.Thread.start = start  # type: ignore[method-assign]

    def undo() -> None:
        threading.Thread.start = original  # type: ignore[method-assign]

    return undo


@dataclass
class LambdaContext:
    """The context object of the Python runtime: request id, remaining time, the function's identity."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class DurableSettings:
    """A durable function's ``DurableConfig``."""

    execution_timeout_seconds: int
    retention_days: int = 14


@dataclass(frozen=True)
class Invocation:
    """One run of a handler: what it got, what it returned or raised, and how long it took."""

    function: str
    """The function's logical id."""
    request_id: str
    event: Any
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    stack_trace: tuple[str, ...] = ()
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    """Set on a cold start: the time to import the handler module."""
    source: str = "invoke"
    version: str = "$LATEST"
    """The version that ran (an alias runs the version it points at)."""
    architecture: str = "x86_64"
    """The instruction set architecture of the version that ran."""
    duration_factor: float = 1.0
    """The kit's speed model for that architecture (``LocalKit(duration_factors=...)``): the REPORT line's
    Duration is ``duration_ms`` times this."""

    @property
    def succeeded(self) -> bool:
        return self.error_type is None

    @property
    def payload(self) -> Any:
        """What Lambda returns to the caller: the result, or the runtime's error object."""
        if self.succeeded:
            return self.result
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": list(self.stack_trace),
        }

    @property
    def reported_duration_ms(self) -> float:
        """The REPORT line's Duration: the handler's measured time times the architecture's duration factor (a
        timed-out invocation reports the time it was stopped at, unscaled)."""
        if self.error_type == "Sandbox.Timedout":
            return self.duration_ms
        return self.duration_ms * self.duration_factor

    def log_tail(self, memory_mb: int) -> str:
        """The START / END / REPORT lines the runtime writes, in the text log format."""
        duration = self.reported_duration_ms
        billed = max(1, math.ceil(duration))
        used = max(1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
        report = (
            f"REPORT RequestId: {self.request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {min(used, memory_mb)} MB"
        )
        if self.init_duration_ms is not None:
            report += f"\tInit Duration: {self.init_duration_ms:.2f} ms"
        return (
            f"START RequestId: {self.request_id} Version: {self.version}\nEND RequestId: {self.request_id}\n{report}\n"
        )


_TRACES: dict[tuple[tuple[CodeType, int], ...], tuple[str, ...]] = {}
"""Stack traces formatted lately, by where each frame stopped (its code and last instruction), at most 1,024."""


def _stack_trace(tb: TracebackType | None) -> tuple[str, ...]:
    """The ``stackTrace`` of a handler's error: its frames below the kit's own, as the runtime formats them.

    Formatting (Python 3.11's caret lines parse each frame's source) depends only on where each frame stopped, so a
    handler that fails the same way again, as retried ones do, is formatted once."""
    where: list[tuple[CodeType, int]] = []
    frame = tb
    while frame is not None:
        where.append((frame.tb_frame.f_code, frame.tb_lasti))
        frame = frame.tb_next
    key = tuple(where)
    trace = _TRACES.get(key)
    if trace is None:
        trace = tuple(line.rstrip("\n") for line in traceback.format_tb(tb)[1:])
        if len(_TRACES) >= 1024:
            _TRACES.clear()  # kept small: it holds code objects of kits that stopped
        _TRACES[key] = trace
    return trace


class _Sandbox:
    """A thread that runs one function's invocations one after another, as a warm Lambda sandbox does: a job that
    dies (an exception out of the kit's own wrapper) ends it, as it ended the job's own thread."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], queue.SimpleQueue[bool]] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def run(self, job: Callable[[], None], *, name: str) -> queue.SimpleQueue[bool]:
        """Start ``job``; the queue returned gets True when it returned, False when it raised."""
        self.thread.name = name
        ended: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._jobs.put((job, ended))
        return ended

    def close(self) -> None:
        """End the thread after the job it runs, if any."""
        self._jobs.put(None)

    def _serve(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, ended = item
            try:
                job()
            except BaseException:  # reported to the caller as the thread's end
                ended.put(False)
                return
            ended.put(True)


@dataclass
class LocalFunction:
    """A function of the stack, run from its asset folder."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dirs: tuple[Path, ...]
    """The asset folder first, then each layer's ``python/`` folder."""
    environment: Mapping[str, str]
    runtime: str
    timeout_seconds: float = 3.0
    memory_mb: int = 128
    region: str = "us-east-1"
    dead_letter_arn: str | None = None
    role_arn: str = ""
    """The execution role: the handler's own API calls are made with it."""
    reserved_concurrency: int | None = None
    """``ReservedConcurrentExecutions`` from the template (0: every invocation is throttled)."""
    durable: DurableSettings | None = None
    """``DurableConfig`` from the template: the function runs durable executions (see ``durable``)."""
    shared_modules: frozenset[str] = frozenset()
    """Top-level packages the function imports from the kit's own interpreter rather than privately from its
    folders: the durable execution SDK, whose objects the kit's in-process durable service hands to the handler."""
    architecture: str = "x86_64"
    """``Architectures`` from the template: the default of ``run``'s ``architecture``."""
    kit_variables: Mapping[str, str] = field(default_factory=dict)
    """Variables the kit's sandbox adds to the runtime's (``SSL_CERT_FILE``: a bundle with the kit's own certificate
    authority); the function's own variables win over them."""
    invocations: list[Invocation] = field(default_factory=list)
    stragglers: list[threading.Thread] = field(default_factory=list)
    """Handler threads still running after their invocation timed out."""
    _handler: Callable[[Any, Any], Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _warm: list[_Sandbox] = field(default_factory=list)
    """Idle handler threads, reused by the next invocations (a thread per invocation was a third of a Map's time)."""
    _warm_lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards ``_warm`` only (``_lock`` is held through a cold start, which must not hold up another invocation)."""
    _closed: bool = False

    def close(self) -> None:
        """End the idle handler threads (the kit stops); a handler thread that ends later ends with its invocation."""
        with self._warm_lock:
            warm, self._warm, self._closed = self._warm, [], True
        for sandbox in warm:
            sandbox.close()
        for sandbox in warm:
            sandbox.thread.join(timeout=1.0)  # idle: it ends at once

    @property
    def is_python(self) -> bool:
        return self.runtime.startswith("python")

    def lambda_environment(
        self, base: Mapping[str, str], *, version: str = "$LATEST", memory_mb: int | None = None
    ) -> dict[str, str]:
        """The runtime's variables (of ``version`` with ``memory_mb``, default the template's), then the function's."""
        environment = _environ_copy(base)
        environment.update(
            {
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                "AWS_LAMBDA_FUNCTION_VERSION": version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb or self.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.runtime}",
                "LAMBDA_TASK_ROOT": str(self.code_dirs[0]) if self.code_dirs else "",
                "_HANDLER": self.handler,
            }
        )
        environment.update(self.kit_variables)
        environment.update(self.environment)
        return environment

    def run(
        self,
        event: Any,
        *,
        environ: LayeredEnviron,
        source: str = "invoke",
        request_id: str | None = None,
        version: str = "$LATEST",
        memory_mb: int | None = None,
        architecture: str | None = None,
        duration_factor: float = 1.0,
    ) -> Invocation:
        """Run the handler once in a thread of the function's (a new one, or one an earlier invocation ended in);
        never raises for what the handler does.

        ``version``, ``memory_mb`` and ``architecture`` are those of the invoked qualifier (a published version has
        its own memory and architecture); the default is ``$LATEST`` with the template's. ``duration_factor`` is the
        kit's speed model for that architecture (see ``Invocation.reported_duration_ms``).
        """
        request_id = request_id or str(uuid.uuid4())
        box: dict[str, Invocation] = {}
        layer = self.lambda_environment(environ.base, version=version, memory_mb=memory_mb)
        started = time.monotonic()
        deadline = started + self.timeout_seconds

        def target() -> None:
            environ.push_layer(layer)
            try:
                with acting_as(self.role_arn or None, via="handler"):
                    box["done"] = self._run_in_thread(
                        event, request_id, deadline, source, version, memory_mb or self.memory_mb
                    )
            finally:
                environ.pop_layer()

        # A new thread's context: the caller's when a handler calls (install_thread_inheritance), else empty.
        context = contextvars.copy_context() if environ.current_layer() is not None else contextvars.Context()
        with self._warm_lock:
            warm = self._warm.pop() if self._warm else None
        sandbox = warm or _Sandbox()
        ended = sandbox.run(functools.partial(context.run, target), name=f"lambda:{self.name}:{request_id[:8]}")
        try:
            outcome: bool | None = ended.get(timeout=self.timeout_seconds)
        except queue.Empty:
            outcome = None  # still running
        invocation = box.get("done")
        # Warm again unless the handler is still running, its thread died, or the runtime exited (Lambda starts a
        # new one) or the kit stopped.
        reuse = bool(outcome) and not (invocation is not None and invocation.error_type == "Runtime.ExitError")
        with self._warm_lock:
            kept = reuse and not self._closed
            if kept:
                self._warm.append(sandbox)
        if not kept:
            sandbox.close()  # its thread ends when the handler does
        if invocation is None and outcome is False:
            invocation = self._failure(
                event,
                request_id,
                source,
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited without providing a reason",
                duration_ms=(time.monotonic() - started) * 1000,
                version=version,
            )
            self._handler = None
        if invocation is None:
            # The handler is still running: Lambda stops the sandbox (the next invocation starts cold);
            # in process the thread is left to finish, and the kit waits for it when it stops.
            self.stragglers.append(sandbox.thread)
            self._handler = None
            invocation = self._failure(
                event,
                request_id,
                source,
                "Sandbox.Timedout",
                f"RequestId: {request_id} Error: Task timed out after {self.timeout_seconds:.2f} seconds",
                duration_ms=(time.monotonic() - started) * 1000,
                version=version,
            )
        invocation = dataclasses.replace(
            invocation, architecture=architecture or self.architecture, duration_factor=duration_factor
        )
        self.invocations.append(invocation)
        return invocation

    def _failure(
        self, event: Any, request_id: str, source: str, error_type: str, message: str, **extra: Any
    ) -> Invocation:
        return Invocation(
            function=self.logical_id,
            request_id=request_id,
            event=event,
            error_type=error_type,
            error_message=message,
            source=source,
            **extra,
        )

    def _run_in_thread(  # noqa: PLR0917 - private
        self, event: Any, request_id: str, deadline: float, source: str, version: str, memory_mb: int
    ) -> Invocation:
        def failed(error_type: str, message: str, trace: tuple[str, ...] = (), **extra: Any) -> Invocation:
            return self._failure(
                event, request_id, source, error_type, message, stack_trace=trace, version=version, **extra
            )

        if not self.is_python:
            return failed(
                "Runtime.Unsupported", f"the local kit runs Python handlers only; {self.name} uses {self.runtime}"
            )
        init_duration: float | None = None
        with self._lock:
            cold = self._handler is None
            if cold:
                init_started = time.monotonic()
                try:
                    self._handler = self._load()
                except _LoadError as error:
                    return failed(error.error_type, str(error))
                init_duration = (time.monotonic() - init_started) * 1000
        handler = self._handler
        assert handler is not None
        context = LambdaContext(
            function_name=self.name,
            function_version=version,
            invoked_function_arn=self.arn if version == "$LATEST" else f"{self.arn}:{version}",
            memory_limit_in_mb=memory_mb,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{self.name}",
            log_stream_name=f"local/[{version}]{request_id.replace('-', '')}",
            deadline=deadline,
        )
        started = time.monotonic()
        try:
            result = handler(event, context)
        except BaseException as error:  # SystemExit too: the runtime reports it, the kit goes on
            if isinstance(error, SystemExit):
                self._handler = None
                return failed(
                    "Runtime.ExitError",
                    f"RequestId: {request_id} Error: Runtime exited with error: exit status {error.code}",
                )
            trace = _stack_trace(error.__traceback__)
            return failed(
                type(error).__name__,
                str(error),
                trace,
                duration_ms=(time.monotonic() - started) * 1000,
                init_duration_ms=init_duration,
            )
        duration = (time.monotonic() - started) * 1000
        try:
            result = json.loads(json.dumps(result))
        except (TypeError, ValueError) as error:
            return failed(
                "Runtime.MarshalError",
                f"Unable to marshal response: {error}",
                duration_ms=duration,
                init_duration_ms=init_duration,
            )
        return Invocation(
            function=self.logical_id,
            request_id=request_id,
            event=event,
            result=result,
            duration_ms=duration,
            init_duration_ms=init_duration,
            source=source,
            version=version,
        )

    def _load(self) -> Callable[[Any, Any], Any]:
        module_name, _, attribute = self.handler.rpartition(".")
        if not module_name or not attribute:
            raise _LoadError("Runtime.MalformedHandlerName", f"Bad handler '{self.handler}': not module.function")
        with _IMPORT_LOCK:
            module = _import_fresh(module_name, self.code_dirs, shared=self.shared_modules)
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise _LoadError(
                "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}' ({self.name})"
            )
        return handler  # type: ignore[no-any-return]


_decoded_environ: tuple[Mapping[str, str], dict[bytes, bytes], dict[str, str]] | None = None


def _environ_copy(base: Mapping[str, str]) -> dict[str, str]:
    """``dict(base)``; for the process's ``os.environ``, decoded again only when it changed since the last copy (each
    of its variables is decoded from bytes when read: a tenth of a millisecond per invocation)."""
    global _decoded_environ  # noqa: PLW0603 - the one copy of the one process environment
    if type(base) is not os._Environ or base is getattr(os, "environb", None):  # str keys only: not environb
        return dict(base)
    cached = _decoded_environ
    data = base._data  # type: ignore[attr-defined]
    if cached is None or cached[0] is not base or cached[1] != data:
        snapshot = dict(data)  # decoded from this one copy: another thread may change the environment meanwhile
        decoded = {base.decodekey(key): base.decodevalue(value) for key, value in snapshot.items()}
        cached = _decoded_environ = (base, snapshot, decoded)
    return dict(cached[2])


class RuntimeStandInWarning(UserWarning):
    """A function's Python runtime is newer than the interpreter that runs the kit."""


def warn_if_cannot_stand_in(runtime: str, local: tuple[int, int] | None = None) -> RuntimeStandInWarning | None:
    """Warn (once per runtime and process, by Python's default warning filter) when this interpreter is older than a
    function's Python runtime, and return the warning; None when it can stand in.

    A handler written for a newer Python may use syntax or standard-library names the local interpreter lacks: it
    then fails in the kit and works on AWS. An older runtime is run by a newer interpreter, which keeps what those
    runtimes had, so only the newer case is flagged.
    """
    if not runtime.startswith("python3."):
        return None
    try:
        wanted = (3, int(runtime.removeprefix("python3.")))
    except ValueError:
        return None
    here = local or (sys.version_info.major, sys.version_info.minor)
    if wanted <= here:
        return None
    warning = RuntimeStandInWarning(
        f"functions on {runtime} run on Python {here[0]}.{here[1]} in the local kit: a handler that needs Python "
        f"{wanted[0]}.{wanted[1]} fails locally and works on AWS; run the tests with Python {wanted[0]}.{wanted[1]} "
        "or newer to rule that out"
    )
    warnings.warn(warning, stacklevel=2)
    return warning


class _LoadError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _import_fresh(module_name: str, code_dirs: tuple[Path, ...], *, shared: frozenset[str] = frozenset()) -> ModuleType:
    """Import ``module_name`` from ``code_dirs`` as a private copy: other functions get their own copies (the
    ``shared`` packages excepted: they come from this interpreter, imported once)."""
    for name in shared:
        importlib.import_module(name)  # the interpreter's copy, before the function's folders go on sys.path
    roots = [str(path) for path in code_dirs]
    # The handler's module and every module its folders provide (a layer's packages too): a copy that another
    # function (or a lazy import after its load) left in sys.modules must not stand in for this function's own.
    tops = {module_name.split(".", 1)[0], *_provided_modules(code_dirs)} - shared
    shadowed = {name: module for name, module in sys.modules.items() if name.split(".", 1)[0] in tops}
    for name in shadowed:
        del sys.modules[name]
    before = set(sys.modules)
    saved_path = list(sys.path)
    sys.path[:0] = roots
    try:
        return importlib.import_module(module_name)
    except BaseException as error:
        raise _LoadError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {type(error).__name__}: {error}"
        ) from None
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if any(origin.startswith(root) for root in roots):
                del sys.modules[name]
        sys.modules.update(shadowed)


def _provided_modules(code_dirs: tuple[Path, ...]) -> set[str]:
    """The top-level Python modules and packages in a function's folders (extension modules excepted: those load
    once per process)."""
    names: set[str] = set()
    for folder in code_dirs:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.suffix == ".py":
                names.add(entry.stem)
            elif entry.is_dir() and entry.name.isidentifier() and entry.name != "__pycache__":
                names.add(entry.name)
    return names
