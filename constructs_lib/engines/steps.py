"""The steps of a FunctionWorkflow: each step renders its own states and checks its own props.

``Invoke`` runs a function; ``Parallel`` runs branches side by side; ``ForEach`` maps over an array of the input;
``Choice`` routes on fields of the previous step's output; ``Deliver`` sends the state to a route; ``ServiceTask``
is any service integration.
Each takes ``RetryRule``s. These are what only an orchestrator does: Lambda Destinations cannot express them.

A workflow renders its steps through a ``StepRenderer``: it asks each step for its part of the chain
(``Step.render``) and never looks at a step's type, so a step class of your own works the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aws_cdk import Duration, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from constructs_lib._internal.validation import (
    ConstructPropsError,
    Problems,
    is_unresolved,
    whole_seconds,
)
from constructs_lib.engines import _jsonata
from constructs_lib.routes import Capability, Route, RouteSide, WorkflowTaskOptions

CAUGHT_ERROR_PATH = "$"
"""Where a caught error goes: it replaces the state with the error output, ``{"Error": ..., "Cause": ...}``. A
ResultPath into the state (``$.error``) would fail on a state that is not a JSON object (the list a ``ForEach`` or a
``Parallel`` gives), and the failure record needs the error only (its ``requestPayload`` is the execution input)."""
ERROR_PATH = "$.error"
"""Where the workflow's failure path keeps the caught error beside the record it built from it."""

INVOKE_COUNT_VARIABLE = "recordInvokeCount"
"""The workflow variable a record's ``approximateInvokeCount`` reads: the attempts of the last top-level step that
assigned it. An ``Invoke``, ``Parallel`` or ``ForEach`` assigns it when it succeeds; every step that catches assigns
it when its error is caught; a ``Fail`` step sets 1."""
COUNT_ATTEMPTS: dict[str, Any] = {f"{INVOKE_COUNT_VARIABLE}.$": "States.MathAdd($$.State.RetryCount, 1)"}
"""``Assign`` of the attempts of the state that just ran: Step Functions' ``$$.State.RetryCount`` (the retries its
Retry made) plus the first attempt."""

JSONATA_COUNT_ATTEMPTS: dict[str, Any] = {INVOKE_COUNT_VARIABLE: "{% $states.context.State.RetryCount + 1 %}"}
"""The same in a JSONata state."""

MAX_RETRY_ATTEMPTS = 99_999_999
"""Amazon States Language caps MaxAttempts at 99999999."""


@dataclass(frozen=True)
class RetryRule:
    """Retry the errors named in ``errors`` (error names such as ``OrderPendingError`` or ``States.Timeout``).

    Waits ``interval``, then ``interval * backoff_rate``, ... capped at ``max_delay``, ``max_attempts`` times.
    """

    errors: Sequence[str] = ("States.ALL",)
    interval: Duration = field(default_factory=lambda: Duration.seconds(2))
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay: Duration | None = None
    jitter: bool = False

    def validate(self, problems: Problems, where: str) -> None:
        if not self.errors:
            problems.add(f"{where}: RetryRule.errors is empty; name the errors to retry, e.g. ['States.ALL']")
        if not is_unresolved(self.max_attempts) and not 0 <= self.max_attempts <= MAX_RETRY_ATTEMPTS:
            problems.add(f"{where}: RetryRule.max_attempts must be 0 to 99999999, got {self.max_attempts}")
        if not is_unresolved(self.backoff_rate) and self.backoff_rate < 1:
            problems.add(
                f"{where}: RetryRule.backoff_rate must be at least 1.0 (1.0 = a constant interval), "
                f"got {self.backoff_rate}"
            )
        interval = whole_seconds(self.interval, problems, f"{where}: RetryRule.interval")
        if interval is not None and interval < 1:
            problems.add(f"{where}: RetryRule.interval must be at least 1 second, got {interval:g} s")
        if self.max_delay is not None:
            delay = whole_seconds(self.max_delay, problems, f"{where}: RetryRule.max_delay")
            if delay is not None and interval is not None and delay < interval:
                problems.add(f"{where}: RetryRule.max_delay ({delay:g} s) is shorter than interval ({interval:g} s)")

    @classmethod
    def from_retry_attempts(cls, attempts: int) -> RetryRule:
        """What ``retry_attempts=`` means on a workflow, as Lambda retries an asynchronous invocation: any error,
        ``attempts`` times, 60 s then 120 s apart."""
        return _RetryAttempts(interval=Duration.seconds(60), max_attempts=attempts, backoff_rate=2)

    def props(self) -> sfn.RetryProps:
        return sfn.RetryProps(
            errors=list(self.errors),
            interval=self.interval,
            max_attempts=self.max_attempts,
            backoff_rate=self.backoff_rate,
            max_delay=self.max_delay,
            jitter_strategy=sfn.JitterType.FULL if self.jitter else None,
        )


@dataclass(frozen=True)
class _RetryAttempts(RetryRule):
    """The retrier ``retry_attempts=`` adds (so that a problem with it names that prop)."""


def check_retriers(rules: Sequence[RetryRule], problems: Problems, where: str) -> None:
    """Amazon States Language: ``States.ALL`` is alone in its retrier's errors, and in the last retrier (a retrier
    after it is never reached)."""
    for index, rule in enumerate(rules):
        if "States.ALL" not in rule.errors:
            continue
        if len(rule.errors) > 1:
            problems.add(f"{where}[{index}]: States.ALL must be alone in RetryRule.errors, got {list(rule.errors)}")
        later = list(rules[index + 1 :])
        if not later:
            continue
        if any(isinstance(r, _RetryAttempts) for r in later):
            problems.add(
                f"{where}[{index}] retries every error (States.ALL), and retry_attempts= adds a second States.ALL "
                "retrier after it, never reached (States.ALL must be the last retrier): give retry_attempts= or a "
                "RetryRule on States.ALL, not both, or name the errors of the RetryRule"
            )
        else:
            problems.add(
                f"{where}[{index}] retries every error (States.ALL), so the {len(later)} retrier(s) after it are "
                "never reached: put the States.ALL RetryRule last"
            )


class StepRenderer:
    """Turns steps into a chain of states in ``scope`` (the workflow construct) for a state machine that runs as
    ``role``, and keeps what the workflow needs to know about them: the functions its states invoke."""

    def __init__(
        self,
        scope: Construct,
        role: iam.IRole,
        succeed: Callable[[], sfn.IChainable] | None = None,
        *,
        jsonata: bool = False,
    ) -> None:
        """
        :param succeed: where a ``Succeed`` step outside a Parallel or ForEach goes: the workflow's successful end
            (its on-success delivery, then a Succeed state), made when first asked for. :default: - a Succeed state.
        :param jsonata: the workflow's query language is JSONata: the steps render JSONata states (``Arguments``,
            ``Output``, ``Assign``) and refuse JSONPath conditions and fields. :default: false (JSONPath).
        """
        self.scope = scope
        self.jsonata = jsonata
        self.role = role
        """The state machine's role: grant it what a state needs beyond the task's own statements."""
        self.functions: list[lambda_.IFunction] = []
        """The functions the rendered states invoke, in order (the state machine's role may invoke each)."""
        self.succeed = succeed

    def chain(self, steps: Sequence[Step], catch: sfn.IChainable | None) -> sfn.Chain:
        """The steps one after the other; every state they make sends an error it does not retry to ``catch``
        (None: the error fails the branch it is in, as inside a Parallel or ForEach)."""
        chain: sfn.Chain | None = None
        for step in steps:
            if chain is not None and not chain.end_states:
                # Chaining onto a chain with no end states drops the step from the graph without a word.
                raise ConstructPropsError(
                    self.scope.node.path,
                    [
                        f"step {step.name!r} is never reached: every path of the steps before it ends the "
                        "workflow or the branch (Succeed, Fail); remove it or put it in a Choice branch"
                    ],
                )
            part = step.render(self, catch)
            chain = chain.next(part) if chain is not None else sfn.Chain.start(part)
        assert chain is not None, "a workflow's steps are checked to be non-empty first"
        return chain

    def finish(
        self, step: Step, state: sfn.TaskStateBase | sfn.Parallel | sfn.Map, catch: sfn.IChainable | None
    ) -> None:
        """Give a state its step's retries, then the catch of the chain it is in, in the state's own query language
        (a JSONata state takes no ``ResultPath``), which records how many times the state ran for the failure
        record's ``approximateInvokeCount``. In a JSONata workflow the error goes to the ``error`` variable; in a
        JSONPath one it replaces the state (a JSONata state of the user's does that with its catch's Output)."""
        for rule in step.retries:
            state.add_retry(**rule.props()._values)
        if catch is None:
            return
        if not _jsonata.state_is_jsonata(state, self.jsonata):
            state.add_catch(catch, errors=["States.ALL"], result_path=CAUGHT_ERROR_PATH, assign=dict(COUNT_ATTEMPTS))
        elif self.jsonata:
            state.add_catch(
                catch,
                errors=["States.ALL"],
                assign={"error": "{% $states.errorOutput %}", **JSONATA_COUNT_ATTEMPTS},
            )
        else:
            state.add_catch(
                catch, errors=["States.ALL"], outputs="{% $states.errorOutput %}", assign=dict(JSONATA_COUNT_ATTEMPTS)
            )

    def count_attempts(self, catch: sfn.IChainable | None) -> dict[str, Any] | None:
        """The ``assign`` of a state that runs a function (or branches of functions) and is not inside a Parallel
        branch or a ForEach (``catch`` is None there): how many times it ran, for the success record's
        ``approximateInvokeCount``. Inside a branch, a variable assigned would not be seen outside it."""
        if catch is None:
            return None
        return dict(JSONATA_COUNT_ATTEMPTS if self.jsonata else COUNT_ATTEMPTS)

    def refuse(self, step: Step, reasons: Sequence[str]) -> None:
        """Fail the synth with ``reasons`` (what in ``step`` does not fit the workflow's query language, and why)."""
        if reasons:
            raise ConstructPropsError(self.scope.node.path, [f"{step.where}: {reason}" for reason in reasons])

    def language_mismatches(self, *values: Any) -> list[str]:
        """The parts of ``values`` written in the other query language, with what to write instead."""
        if self.jsonata:
            return [
                f"{part} in a JSONata workflow (query_language=JSONATA): JSONata states read the state with "
                "'{% $states.input.field %}' expressions, not JSONPath"
                for value in values
                for part in _jsonata.jsonpath_parts(value)
            ]
        return [
            f"{part} in a JSONPath workflow: Step Functions would pass it on as a plain string; use sfn.JsonPath "
            "reads, or query_language=sfn.QueryLanguage.JSONATA on the workflow"
            for value in values
            for part in _jsonata.jsonata_parts(value)
        ]


class Step:
    """A step of a workflow. ``name`` is the state's name, unique in the workflow.

    A step renders its own states (``render``) and checks its own props (``check``); subclass it for a step the
    library does not have.
    """

    name: str
    retries: Sequence[RetryRule]
    needs: ClassVar[str] = "a workflow step"
    """What the step asks of an orchestrator, in words: why Lambda Destinations cannot run it."""
    counts_attempts: ClassVar[bool] = False
    """Whether every way out of the step's states (outside a Parallel branch or a ForEach) sets the workflow
    variable ``INVOKE_COUNT_VARIABLE``; a workflow whose first step does not starts with a state that sets it to 1,
    so that a record never reads it unset."""

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        """The state (or chain of states) of this step, made in ``renderer.scope``; what follows is chained to
        its end states. Errors go to ``catch`` (``renderer.finish`` adds retries and the catch to a state)."""
        raise NotImplementedError(f"{type(self).__name__} does not render itself: implement Step.render")

    def check(self, problems: Problems, names: list[str]) -> None:
        """Add a problem for each prop Step Functions would refuse; record the names of its states in ``names``
        (state names are unique in a workflow). Steps that hold steps check those too."""
        names.append(self.name)
        for rule in self.retries:
            rule.validate(problems, self.where)
        check_retriers(self.retries, problems, f"{self.where} retries")

    @property
    def where(self) -> str:
        """The step, as a problem names it."""
        return f"step {self.name!r}"


@dataclass(frozen=True)
class Invoke(Step):
    """Invoke a function with the current state as its event; its return value becomes the state."""

    name: str
    function: lambda_.IFunction
    retries: Sequence[RetryRule] = ()
    timeout: Duration | None = None
    result_path: str | None = None
    """Where the function's result goes in the state: ``$`` replaces the state, ``$.charge`` sets that field of
    it and keeps the rest, ``sfn.JsonPath.DISCARD`` keeps the state as it was. :default: - ``$``."""
    result_selector: Mapping[str, Any] | None = None
    """A new result built from the function's result before it goes to ``result_path``
    (``{"id": sfn.JsonPath.string_at("$.chargeId")}``). :default: - the result as the function returned it."""
    payload: sfn.TaskInput | Mapping[str, Any] | None = None
    """The event the function receives: a mapping whose values may be ``sfn.JsonPath`` reads of the state
    (``{"orderId": sfn.JsonPath.string_at("$.orderId")}``), or any ``sfn.TaskInput``. :default: - the whole state."""
    needs: ClassVar[str] = "several functions in sequence"
    counts_attempts: ClassVar[bool] = True

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        renderer.functions.append(self.function)
        payload = self.payload
        if payload is not None and not isinstance(payload, sfn.TaskInput):
            payload = sfn.TaskInput.from_object(dict(payload))
        renderer.refuse(
            self,
            renderer.language_mismatches(payload.value if payload is not None else None, self.result_selector)
            + _result_path_problems(renderer, self.result_path),
        )
        if renderer.jsonata:
            result = _jsonata.template(self.result_selector) if self.result_selector else "$states.result"
            state: sfn.TaskStateBase = sfn_tasks.LambdaInvoke.jsonata(
                renderer.scope,
                self.name,
                lambda_function=self.function,
                payload_response_only=True,
                retry_on_service_exceptions=True,
                task_timeout=sfn.Timeout.duration(self.timeout) if self.timeout is not None else None,
                payload=payload,
                outputs=_jsonata.placed(self.result_path, result),
                assign=renderer.count_attempts(catch),
            )
            renderer.finish(self, state, catch)
            return state
        state = sfn_tasks.LambdaInvoke(
            renderer.scope,
            self.name,
            lambda_function=self.function,
            payload_response_only=True,
            retry_on_service_exceptions=True,
            task_timeout=sfn.Timeout.duration(self.timeout) if self.timeout is not None else None,
            payload=payload,
            result_path=self.result_path,
            result_selector=self.result_selector,
            assign=renderer.count_attempts(catch),
        )
        renderer.finish(self, state, catch)
        return state

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        check_result_path(problems, self.where, self.result_path)


@dataclass(frozen=True)
class Parallel(Step):
    """Run branches side by side on the same input; the output is the list of the branches' outputs."""

    name: str
    branches: Sequence[Sequence[Step]]
    retries: Sequence[RetryRule] = ()
    result_path: str | None = None
    """Where the list of the branches' outputs goes in the state (as ``Invoke.result_path``). :default: - ``$``."""
    result_selector: Mapping[str, Any] | None = None
    """A new result built from that list (``{"charge": sfn.JsonPath.object_at("$[1]")}``). :default: - the list."""
    needs: ClassVar[str] = "parallel branches"
    counts_attempts: ClassVar[bool] = True

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        renderer.refuse(
            self,
            renderer.language_mismatches(self.result_selector) + _result_path_problems(renderer, self.result_path),
        )
        if renderer.jsonata:
            result = _jsonata.template(self.result_selector) if self.result_selector else "$states.result"
            state = sfn.Parallel.jsonata(
                renderer.scope,
                self.name,
                outputs=_jsonata.placed(self.result_path, result),
                assign=renderer.count_attempts(catch),
            )
        else:
            state = sfn.Parallel(
                renderer.scope,
                self.name,
                result_path=self.result_path,
                result_selector=self.result_selector,
                assign=renderer.count_attempts(catch),
            )
        for branch in self.branches:
            state.branch(renderer.chain(branch, None))
        renderer.finish(self, state, catch)
        return state

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        check_result_path(problems, self.where, self.result_path)
        if not self.branches:
            problems.add(f"{self.where}: a Parallel needs at least one branch")
        for branch in self.branches:
            if not branch:
                problems.add(f"{self.where}: a Parallel branch is empty")
            for inner in branch:
                inner.check(problems, names)


@dataclass(frozen=True)
class ForEach(Step):
    """Run ``steps`` for every item of the array at ``items_path`` (a Map state); the output is the list of
    results, in order. ``max_concurrency`` 0 means as many as Step Functions allows."""

    name: str
    items_path: str
    steps: Sequence[Step]
    max_concurrency: int = 0
    retries: Sequence[RetryRule] = ()
    item_selector: Mapping[str, Any] | None = None
    """What each run of ``steps`` receives, built from the item (``sfn.JsonPath.object_at("$$.Map.Item.Value")``)
    and the state around it (``sfn.JsonPath.string_at("$.orderId")``). :default: - the item alone."""
    result_path: str | None = None
    """Where the list of results goes in the state (as ``Invoke.result_path``). :default: - ``$``."""
    result_selector: Mapping[str, Any] | None = None
    """A new result built from that list. :default: - the list."""
    needs: ClassVar[str] = "a map over items"
    counts_attempts: ClassVar[bool] = True

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        problems = renderer.language_mismatches(self.item_selector, self.result_selector)
        problems += _result_path_problems(renderer, self.result_path)
        if renderer.jsonata and not _jsonata.simple_path(self.items_path):
            problems.append(f"items_path must be '$' or '$.field.field' in a JSONata workflow, got {self.items_path!r}")
        renderer.refuse(self, problems)
        if renderer.jsonata:
            result = _jsonata.template(self.result_selector) if self.result_selector else "$states.result"
            state = sfn.Map.jsonata(
                renderer.scope,
                self.name,
                items=sfn.ProvideItems.jsonata(_jsonata.wrap(_jsonata.state_at(self.items_path))),
                max_concurrency=self.max_concurrency or None,
                item_selector=self.item_selector,
                outputs=_jsonata.placed(self.result_path, result),
                assign=renderer.count_attempts(catch),
            )
        else:
            state = sfn.Map(
                renderer.scope,
                self.name,
                items_path=self.items_path,
                max_concurrency=self.max_concurrency or None,
                item_selector=self.item_selector,
                result_path=self.result_path,
                result_selector=self.result_selector,
                assign=renderer.count_attempts(catch),
            )
        state.item_processor(renderer.chain(self.steps, None))
        renderer.finish(self, state, catch)
        return state

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        if not self.items_path or not self.items_path.startswith("$"):
            problems.add(
                f"{self.where}: ForEach needs items_path, a JSONPath to the array to map over (e.g. '$.items'), "
                f"got {self.items_path!r}"
            )
        check_result_path(problems, self.where, self.result_path)
        if self.max_concurrency < 0:
            problems.add(f"{self.where}: max_concurrency must be 0 (no limit) or more, got {self.max_concurrency}")
        if not self.steps:
            problems.add(f"{self.where}: ForEach needs at least one step to run per item")
        for inner in self.steps:
            inner.check(problems, names)


@dataclass(frozen=True)
class Choice(Step):
    """Route on fields of the state: the first ``(condition, steps)`` whose condition holds runs, else ``default``.

    Conditions are aws-cdk-lib's ``sfn.Condition``: ``number_equals``, ``string_matches``, ``is_present``,
    ``and_``, ``or_``, ``not_``... After the branch, the workflow goes on with the next step.
    """

    name: str
    branches: Sequence[tuple[sfn.Condition, Sequence[Step]]]
    default: Sequence[Step] = ()
    retries: Sequence[RetryRule] = ()
    needs: ClassVar[str] = "a choice on the function's output"

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        problems = []
        for index, (condition, _) in enumerate(self.branches):
            if renderer.jsonata and not _jsonata.condition_is_jsonata(condition):
                problems.append(
                    f"branch {index} has a JSONPath condition {condition.render_condition()} in a JSONata workflow "
                    "(query_language=JSONATA), where a Choice rule takes a Condition expression only: use "
                    "sfn.Condition.jsonata('{% $states.input.field = ... %}')"
                )
            if not renderer.jsonata and _jsonata.condition_is_jsonata(condition):
                problems.append(
                    f"branch {index} has a JSONata condition {condition.render_condition()} in a JSONPath workflow, "
                    "where a Choice rule takes Variable comparisons only: use sfn.Condition.string_equals(...) and "
                    "the like, or query_language=sfn.QueryLanguage.JSONATA on the workflow"
                )
        renderer.refuse(self, problems)
        choice = (
            sfn.Choice.jsonata(renderer.scope, self.name) if renderer.jsonata else sfn.Choice(renderer.scope, self.name)
        )
        for condition, branch in self.branches:
            choice.when(condition, renderer.chain(branch, catch))
        if self.default:
            choice.otherwise(renderer.chain(self.default, catch))
        # What follows the choice follows every branch; with no default it is also the choice's otherwise.
        after = choice.afterwards(include_otherwise=not self.default)
        return sfn.Chain.custom(choice, after.end_states, after)

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        if not self.branches:
            problems.add(f"{self.where}: a Choice needs at least one (condition, steps) branch")
        if self.retries:
            # A Choice state has no Retry field: rules given here would be dropped without a word.
            problems.add(
                f"{self.where}: a Choice runs nothing to retry (a Choice state takes no Retry); give the retries to "
                "the steps of its branches"
            )
        for _, branch in self.branches:
            for inner in branch:
                inner.check(problems, names)
        for inner in self.default:
            inner.check(problems, names)


@dataclass(frozen=True)
class Deliver(Step):
    """Send the state (or the JSON at ``path``) to a route, by the route's own service integration (SQS
    SendMessage, SNS Publish, EventBridge PutEvents, Lambda Invoke); the state goes on unchanged.

    The route is bound in the workflow under the step's name (once per stack, as every route), and the state
    machine's role gets what reaching it needs, an encrypted topic's key included.

    :param detail_type: what an event bus files the state under. :default: - the step's name.
    """

    name: str
    route: Route
    detail_type: str | None = None
    path: str = "$"
    retries: Sequence[RetryRule] = ()
    needs: ClassVar[str] = "a delivery to a route between steps"

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        if renderer.jsonata and not _jsonata.simple_path(self.path):
            renderer.refuse(self, [f"path must be '$' or '$.field.field' in a JSONata workflow, got {self.path!r}"])
        bound = self.route.bind(renderer.scope, self.name)
        options = WorkflowTaskOptions(
            state_name=self.name,
            record_path=self.path,
            detail_type=self.detail_type or self.name,
            role=renderer.role,
            jsonata_record=_jsonata.state_at(self.path) if renderer.jsonata else None,
        )
        state = self.route.workflow_task(renderer.scope, bound, options)
        renderer.finish(self, state, catch)
        return state

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        self.route.require(RouteSide.SUCCESS, Capability.WORKFLOW, problems, where=self.where)
        if not self.path.startswith("$"):
            problems.add(
                f"{self.where}: path must be a JSONPath into the state (e.g. '$' or '$.result'), got {self.path!r}"
            )


@dataclass(frozen=True)
class ServiceTask(Step):
    """Any Step Functions task state, for a service integration with no function in between
    (``tasks.DynamoPutItem``, ``tasks.SnsPublish``, ``tasks.CallAwsService``, ...).

    ``make(scope, name)`` builds the task; the workflow adds ``retries`` and its Catch to it. Its input, result and
    output paths are the task's own: use ``result_path=sfn.JsonPath.DISCARD`` to keep the state as it was.
    """

    name: str
    make: Callable[[Construct, str], sfn.TaskStateBase]
    retries: Sequence[RetryRule] = ()

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        state = self.make(renderer.scope, self.name)
        renderer.finish(self, state, catch)
        return state


def _result_path_problems(renderer: StepRenderer, result_path: str | None) -> list[str]:
    """A JSONata workflow places a result at ``$`` or ``$.field.field`` (or discards it)."""
    if not renderer.jsonata or result_path is None or Token.is_unresolved(result_path):
        return []
    if _jsonata.simple_path(result_path):
        return []
    return [f"result_path must be '$' or '$.field.field' in a JSONata workflow, got {result_path!r}"]


def check_result_path(problems: Problems, where: str, result_path: str | None) -> None:
    """A ``result_path`` is a JSONPath into the state (``$``, ``$.field``) or ``sfn.JsonPath.DISCARD``."""
    if result_path is None or Token.is_unresolved(result_path):  # sfn.JsonPath.DISCARD is a token
        return
    if not result_path.startswith("$") or result_path.startswith("$$"):
        problems.add(
            f"{where}: result_path must be a JSONPath into the state ('$' replaces it, '$.field' sets one field) "
            f"or sfn.JsonPath.DISCARD (keeps the state as it was), got {result_path!r}"
        )


def _result(value: Any) -> sfn.Result:
    """A fixed JSON value as a Pass state's result."""
    if isinstance(value, Mapping):
        return sfn.Result.from_object(dict(value))
    if isinstance(value, list | tuple):
        return sfn.Result.from_array(list(value))
    if isinstance(value, bool):
        return sfn.Result.from_boolean(value)
    if isinstance(value, int | float):
        return sfn.Result.from_number(value)
    return sfn.Result.from_string(str(value))


@dataclass(frozen=True)
class Pass(Step):
    """Shape the state with no function in between (a Pass state): put a fixed ``result`` into it, or build a new
    state from it with ``parameters``; ``result_path`` says where either goes.

    ``Pass("Defaults", result={"priority": "normal"}, result_path="$.options")`` adds a field and keeps the rest.
    """

    name: str
    result: Any = None
    """A fixed JSON value (a mapping, list, string, number or boolean). :default: - none: the state itself."""
    parameters: Mapping[str, Any] | None = None
    """A new value built from the state: values may be ``sfn.JsonPath`` reads
    (``{"orderId": sfn.JsonPath.string_at("$.order.id")}``). Give ``result`` or ``parameters``, not both.
    :default: - none: the state itself."""
    result_path: str | None = None
    """Where the value goes in the state (as ``Invoke.result_path``). :default: - ``$``: it replaces the state."""
    retries: Sequence[RetryRule] = field(default=(), init=False)
    needs: ClassVar[str] = "a state shaped between steps"

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        renderer.refuse(
            self, renderer.language_mismatches(self.parameters) + _result_path_problems(renderer, self.result_path)
        )
        if renderer.jsonata:
            if self.result is not None:
                value = _jsonata.template(self.result)
            elif self.parameters is not None:
                value = _jsonata.template(self.parameters)
            else:
                value = "$states.input"
            return sfn.Pass.jsonata(renderer.scope, self.name, outputs=_jsonata.placed(self.result_path, value))
        return sfn.Pass(
            renderer.scope,
            self.name,
            result=_result(self.result) if self.result is not None else None,
            parameters=self.parameters,
            result_path=self.result_path,
        )

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        check_result_path(problems, self.where, self.result_path)
        if self.result is not None and self.parameters is not None:
            problems.add(f"{self.where}: give result= (a fixed value) or parameters= (built from the state), not both")


@dataclass(frozen=True)
class Wait(Step):
    """Wait, then go on with the state unchanged (a Wait state): ``Duration.minutes(5)``, or any ``sfn.WaitTime``
    (``sfn.WaitTime.timestamp_path("$.shipAt")`` waits until a time the state names). A Standard workflow may wait
    up to a year; an Express workflow runs 5 minutes at most."""

    name: str
    time: Duration | sfn.WaitTime
    retries: Sequence[RetryRule] = field(default=(), init=False)
    needs: ClassVar[str] = "a wait between steps"

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        time = self.time if isinstance(self.time, sfn.WaitTime) else sfn.WaitTime.duration(self.time)
        if not renderer.jsonata:
            return sfn.Wait(renderer.scope, self.name, time=time)
        state = sfn.Wait.jsonata(renderer.scope, self.name, time=time)
        paths = sorted({"SecondsPath", "TimestampPath"} & set(state.to_state_json()))
        renderer.refuse(
            self,
            [
                f"a JSONPath wait time ({', '.join(paths)}) in a JSONata workflow: use "
                "sfn.WaitTime.timestamp('{% $states.input.shipAt %}') or sfn.WaitTime.seconds('{% ... %}')"
            ]
            if paths
            else [],
        )
        return state


@dataclass(frozen=True)
class Succeed(Step):
    """End successfully here, skipping the steps after it.

    In the workflow itself (or a Choice branch of it), the state goes to ``on_success`` as the workflow's output,
    exactly as after the last step. Inside a Parallel branch or a ForEach, it ends that branch or that item's run
    (a Succeed state), and the Parallel or ForEach goes on.
    """

    name: str
    retries: Sequence[RetryRule] = field(default=(), init=False)
    needs: ClassVar[str] = "an early end of the workflow"

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        if catch is None or renderer.succeed is None:  # a branch of a Parallel or ForEach: end the branch
            if renderer.jsonata:
                return sfn.Succeed.jsonata(renderer.scope, self.name)
            return sfn.Succeed(renderer.scope, self.name)
        # A Pass named after the step shows where the execution ended early, then the workflow's successful end.
        state = sfn.Pass.jsonata(renderer.scope, self.name) if renderer.jsonata else sfn.Pass(renderer.scope, self.name)
        state.next(renderer.succeed())
        return sfn.Chain.custom(state, [], state)


@dataclass(frozen=True)
class Fail(Step):
    """Fail here with an error of your own, skipping the steps after it.

    In the workflow itself (or a Choice branch of it), the failure goes to ``on_failure`` as any step's error does
    (``responsePayload.errorType`` is ``error``, ``errorMessage`` is ``cause``) and the execution ends FAILED with
    that error. Inside a Parallel branch or a ForEach, it fails the Parallel or ForEach with that error (a Fail
    state), which then fails the workflow the same way unless a retry of the Parallel or ForEach names it.
    """

    name: str
    error: str
    """The error name, as a ``RetryRule`` or a consumer's ``error_types`` matches it (``"OrderDeclined"``)."""
    cause: str = ""
    """A human-readable explanation. :default: - empty."""
    retries: Sequence[RetryRule] = field(default=(), init=False)
    needs: ClassVar[str] = "a failure with an error of your own"
    counts_attempts: ClassVar[bool] = True

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        if catch is None:  # a branch of a Parallel or ForEach: fail the branch, its state's catch takes it
            if renderer.jsonata:
                return sfn.Fail.jsonata(renderer.scope, self.name, error=self.error, cause=self.cause or None)
            return sfn.Fail(renderer.scope, self.name, error=self.error, cause=self.cause or None)
        # Put the error where a caught error goes, then take the workflow's failure path (record, route, Fail).
        if renderer.jsonata:
            failed = sfn.Pass.jsonata(
                renderer.scope,
                self.name,
                # asl-validator refuses an empty string as an Assign value: an expression gives the empty cause
                assign={"error": {"Error": self.error, "Cause": self.cause or "{% '' %}"}, INVOKE_COUNT_VARIABLE: 1},
            )
            failed.next(catch)
            return sfn.Chain.custom(failed, [], failed)
        state = sfn.Pass(
            renderer.scope,
            self.name,
            result=sfn.Result.from_object({"Error": self.error, "Cause": self.cause}),
            result_path=CAUGHT_ERROR_PATH,
            assign={INVOKE_COUNT_VARIABLE: 1},  # the step that failed ran once
        )
        state.next(catch)
        return sfn.Chain.custom(state, [], state)

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        if not self.error:
            problems.add(f"{self.where}: a Fail needs an error name, e.g. 'OrderDeclined'")


__all__ = [
    "INVOKE_COUNT_VARIABLE",
    "Choice",
    "Deliver",
    "Fail",
    "ForEach",
    "Invoke",
    "Parallel",
    "Pass",
    "RetryRule",
    "ServiceTask",
    "Step",
    "StepRenderer",
    "Succeed",
    "Wait",
]
