"""Every prop of every public construct checked against its annotation, before the construct runs.

``@checked_props`` wraps a constructor (or a method such as ``add_result_rule``). It reads the signature and the type
hints, so a new prop is checked the day it is added: a missing required prop, an unknown keyword, or a value of the
wrong type is a ``ConstructPropsError`` naming the construct path, the prop, the value received and the fix, every
such problem of the call at once. Values inside the library's own option objects (``AsyncAlarmOptions``,
``RetryRule``, steps, routes) are checked against their annotations too, and an option object may add value checks
of its own (``check_values``). CDK tokens are never refused: an unresolved string, number or list passes wherever
a string, a number or a list of them is expected.

A wrong type stops the call before the construct's own value checks, which could not read it: those run next, all
at once, when every type is right.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from aws_cdk import Duration, Token
from constructs import Construct

from constructs_lib._internal.validation import ConstructPropsError, Problems

P = ParamSpec("P")
R = TypeVar("R")

_MAX_DEPTH = 6
_CHECKED = "__checks_prop_types__"


def checked_props(method: Callable[P, R]) -> Callable[P, R]:
    """Check the props of ``method`` (a construct's ``__init__``, or a method of a construct) against its
    annotations before it runs; raise one ``ConstructPropsError`` with every problem."""
    signature = inspect.signature(method)
    hints: dict[str, Any] = {}

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not hints:
            hints.update(typing.get_type_hints(method))
            hints.setdefault("__resolved__", True)
        problems = Problems()
        check_call(signature, hints, args, kwargs, problems)
        if problems:
            raise ConstructPropsError(_where(method, args, kwargs), problems.items)
        return method(*args, **kwargs)

    setattr(wrapper, _CHECKED, True)
    return wrapper


def checks_props(method: object) -> bool:
    """Whether ``method`` is wrapped by ``checked_props``."""
    return bool(getattr(method, _CHECKED, False))


def check_call(
    signature: inspect.Signature,
    hints: Mapping[str, Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    problems: Problems,
) -> None:
    """Add a problem for each missing, unknown or wrongly typed argument of a call to ``signature``."""
    parameters = list(signature.parameters.values())
    accepts_any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    given: dict[str, Any] = {}
    for parameter, value in zip(positional, args, strict=False):
        given[parameter.name] = value
    if len(args) > len(positional):
        problems.add(
            f"takes {len(positional) - 1} positional arguments ({', '.join(p.name for p in positional[1:])}); "
            "give the props as keywords (prop=value)"
        )
    names = {p.name for p in parameters}
    for name, value in kwargs.items():
        if name in names:
            given[name] = value
        elif not accepts_any_keyword:
            close = difflib.get_close_matches(name, sorted(names - {"self"}), n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; the props are: {', '.join(sorted(names - {'self'}))}"
            problems.add(f"{name}: no such prop{hint}")
    for parameter in parameters[1:]:  # not self
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        hint = hints.get(parameter.name, Any)
        if parameter.name not in given:
            if parameter.default is inspect.Parameter.empty:
                problems.add(f"{parameter.name}: required, give {describe_type(hint)}{_make_hint(hint)}")
            continue
        check_value(given[parameter.name], hint, parameter.name, problems)


def _where(method: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """The construct path of the call: ``<scope path>/<id>`` for a constructor, ``<path>.<method>()`` for a
    method of a construct."""
    owner = args[0] if args else None
    if method.__name__ != "__init__":
        path = owner.node.path if isinstance(owner, Construct) else type(owner).__name__
        return f"{path}.{method.__name__}()"
    scope = args[1] if len(args) > 1 else kwargs.get("scope")
    construct_id = args[2] if len(args) > 2 else kwargs.get("construct_id")
    name = type(owner).__name__
    scope_path = scope.node.path if isinstance(scope, Construct) else f"<{name} with no scope>"
    return f"{scope_path}/{construct_id}" if isinstance(construct_id, str) else f"{scope_path}/<{name}>"


# ------------------------------------------------------------------------------------------------ values


def check_value(value: Any, hint: Any, where: str, problems: Problems, depth: int = 0) -> None:
    """Add a problem if ``value`` is not of type ``hint``; look inside sequences, mappings and the library's own
    option objects."""
    if depth > _MAX_DEPTH:
        return
    if not _matches(value, hint):
        problems.add(f"{where}: expected {describe_type(hint)}, got {describe_value(value)}{_fix(value, hint)}")
        return
    _check_inside(value, hint, where, problems, depth)


def _arms(hint: Any) -> tuple[Any, ...]:
    """The types of a union, or the type itself."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(hint)
    return (hint,)


def _matches(value: Any, hint: Any) -> bool:
    return any(_matches_one(value, arm) for arm in _arms(hint))


def _matches_one(value: Any, hint: Any) -> bool:  # noqa: PLR0911 - one answer per kind of type
    if hint is Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin is not None:
        return _matches_generic(value, origin, typing.get_args(hint))
    if not isinstance(hint, type):
        return True  # a type this checker does not know (a TypeVar, a string it could not resolve): let it pass
    if _is_token(value) and hint in (str, int, float):
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if _is_jsii_interface(hint):
        return implements(value, hint)
    return isinstance(value, hint)


def _matches_generic(value: Any, origin: Any, args: tuple[Any, ...]) -> bool:  # noqa: PLR0911 - one per kind
    if origin in (collections.abc.Sequence, list):
        return isinstance(value, list | tuple)
    if origin is tuple:
        if not isinstance(value, tuple | list):
            return False
        fixed = [a for a in args if a is not Ellipsis]
        return Ellipsis in args or len(value) == len(fixed)
    if origin in (collections.abc.Mapping, dict):
        return isinstance(value, Mapping)
    if origin is collections.abc.Callable:
        return callable(value)
    if origin is type:
        return isinstance(value, type)
    if isinstance(origin, type):
        return isinstance(value, origin)
    return True


def _check_inside(value: Any, hint: Any, where: str, problems: Problems, depth: int) -> None:
    """Check the items of a sequence or mapping, and the fields of the library's own objects."""
    arm = next((a for a in _arms(hint) if _matches_one(value, a)), hint)
    origin = typing.get_origin(arm)
    args = typing.get_args(arm)
    if _is_token(value):
        return
    if origin in (collections.abc.Sequence, list) and args and isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_value(item, args[0], f"{where}[{index}]", problems, depth + 1)
    elif origin is tuple and args and Ellipsis not in args:
        for index, (item, item_hint) in enumerate(zip(value, args, strict=False)):
            check_value(item, item_hint, f"{where}[{index}]", problems, depth + 1)
    elif origin in (collections.abc.Mapping, dict) and len(args) == 2:
        for key, item in value.items():
            check_value(key, args[0], f"{where} key {key!r}", problems, depth + 1)
            check_value(item, args[1], f"{where}[{key!r}]", problems, depth + 1)
    elif _is_library_object(value):
        _check_library_object(value, where, problems, depth)
    else:
        for struct, check in _struct_checks():
            if isinstance(value, struct):
                check(value, where, problems)


@functools.cache
def _struct_checks() -> tuple[tuple[type, Callable[[Any, str, Problems], None]], ...]:
    """Value checks of the CDK's own structs that the library passes on (jsii checks their types, not what AWS
    accepts)."""
    from aws_cdk import aws_lambda as lambda_

    from constructs_lib._internal.validation import check_function_options

    return ((lambda_.FunctionOptions, check_function_options),)


def _is_library_object(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith("constructs_lib.") and not isinstance(value, Construct | enum.Enum | type)


def _check_library_object(value: Any, where: str, problems: Problems, depth: int) -> None:
    """The fields of a dataclass, or the attributes a route keeps under its constructor's parameter names, against
    their annotations; then the object's own value checks (``check_values``) when its types are right."""
    before = len(problems.items)
    for name, hint in _field_hints(type(value)).items():
        if hasattr(value, name):
            check_value(getattr(value, name), hint, f"{where}.{name}", problems, depth + 1)
    check_values = getattr(value, "check_values", None)
    if len(problems.items) == before and callable(check_values):
        check_values(problems, where)


def _field_hints(cls: type) -> dict[str, Any]:
    cached = _FIELD_HINTS.get(cls)
    if cached is None:
        cached = _FIELD_HINTS[cls] = _read_field_hints(cls)
    return cached


_FIELD_HINTS: dict[type, dict[str, Any]] = {}


def _read_field_hints(cls: type) -> dict[str, Any]:
    try:
        if dataclasses.is_dataclass(cls):
            hints = typing.get_type_hints(cls)
            return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name in hints}
        init = cls.__dict__.get("__init__") or next(
            (c.__dict__["__init__"] for c in cls.__mro__ if "__init__" in c.__dict__), None
        )
        if init is None or init is object.__init__:
            return {}
        hints = typing.get_type_hints(init)
    except (NameError, TypeError):  # annotations this checker cannot resolve: nothing to check
        return {}
    parameters = inspect.signature(init).parameters
    return {name: hint for name, hint in hints.items() if name in parameters and name != "return"}


def _is_token(value: Any) -> bool:
    if isinstance(value, str | float) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return bool(Token.is_unresolved(value))
    return False


# ------------------------------------------------------------------------------------------------ jsii interfaces


def _is_jsii_interface(hint: type) -> bool:
    return bool(getattr(hint, "_is_protocol", False)) and hasattr(hint, "__jsii_type__")


def implements(value: Any, interface: type) -> bool:
    """Whether ``value`` implements the jsii interface ``interface`` (``lambda_.IFunction``): a class that declares
    it (or an interface that extends it), or a proxy jsii made for it (an imported resource)."""
    candidates = (
        [value, *getattr(value, "_delegates", ())] if type(value).__name__ == "InterfaceDynamicProxy" else [value]
    )
    proxy_factory = getattr(interface, "__jsii_proxy_class__", None)
    proxy = proxy_factory() if callable(proxy_factory) else None
    for candidate in candidates:
        if proxy is not None and isinstance(candidate, proxy):
            return True
        for klass in type(candidate).__mro__:
            for declared in getattr(klass, "__jsii_ifaces__", None) or ():
                if interface in getattr(declared, "__mro__", ()):
                    return True
    return False


# ------------------------------------------------------------------------------------------------ words


_ALIASES = {"lambda": "lambda_", "stepfunctions": "sfn", "stepfunctions_tasks": "sfn_tasks"}


def _type_name(cls: type) -> str:
    module = cls.__module__
    if module == "builtins":
        return cls.__name__
    if module.startswith("aws_cdk.aws_"):
        short = module.removeprefix("aws_cdk.aws_").split(".")[0]
        return f"{_ALIASES.get(short, short)}.{cls.__name__}"
    if module in {"os", "pathlib"}:
        return f"{module}.{cls.__name__}"
    return cls.__name__


def describe_type(hint: Any) -> str:
    """A type as a message says it: ``a Duration``, ``an int``, ``a list of Step``, ``a lambda_.IFunction or
    None``."""
    arms = [arm for arm in _arms(hint) if arm is not type(None)]
    words = [_describe_one(arm) for arm in arms]
    if len(arms) < len(_arms(hint)):
        words.append("None")
    return " or ".join(words)


def _describe_one(hint: Any) -> str:  # noqa: PLR0911 - one per kind of type
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (collections.abc.Sequence, list):
        return f"a list of {_plain(args[0])}" if args else "a list"
    if origin is tuple:
        return f"a ({', '.join(_plain(a) for a in args)}) pair" if args else "a tuple"
    if origin in (collections.abc.Mapping, dict):
        return f"a mapping of {_plain(args[0])} to {_plain(args[1])}" if len(args) == 2 else "a mapping"
    if origin is collections.abc.Callable:
        return "a function"
    if origin is not None and isinstance(origin, type):
        return _article(f"{_type_name(origin)}[{', '.join(_plain(a) for a in args)}]")
    if hint is Any:
        return "anything"
    if isinstance(hint, type):
        return _article(_type_name(hint))
    return str(hint)


def _plain(hint: Any) -> str:
    """A type without its article (``Step``, ``str or lambda_.IFunction``)."""
    words = [
        _type_name(a) if isinstance(a, type) and typing.get_origin(a) is None else _describe_one(a) for a in _arms(hint)
    ]
    return " or ".join("None" if w == "NoneType" else w for w in words)


def _article(noun: str) -> str:
    return (
        f"an {noun}"
        if noun[:1].lower() in "aeiou" or noun.startswith(("sqs.", "sns.", "s3.", "SQS", "S3"))
        else (f"a {noun}")
    )


def describe_value(value: Any) -> str:  # noqa: PLR0911 - one per kind of value
    """A value as a message quotes it: ``3600 (int)``, ``'FAILED' (str)``, ``None``, ``the class EventBusRoute``,
    ``an sqs.Queue (Orders/Queue)``."""
    if value is None:
        return "None"
    if isinstance(value, bool | int | float):
        return f"{value!r} ({type(value).__name__})"
    if isinstance(value, str) and "://" in value:  # a URL may carry a credential: never repeat its path
        scheme, _, rest = value.partition("://")
        return f"a URL ({scheme}://{rest.split('/', 1)[0]}/...)"
    if isinstance(value, str):
        text = value if len(value) <= 80 else f"{value[:77]}..."
        return f"{text!r} (str)"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if isinstance(value, list | tuple):
        shown = repr(value)
        return f"{shown if len(shown) <= 80 else shown[:77] + '...'} ({type(value).__name__})"
    if isinstance(value, Duration):
        return f"Duration {value.to_human_string()}" if not value.is_unresolved() else "a Duration token"
    if type(value).__name__ == "InterfaceDynamicProxy":  # what jsii answers for an imported resource
        proxies = [type(d) for d in getattr(value, "_delegates", ()) if type(d).__name__.endswith("Proxy")]
        names = [f"{_type_name(p).rsplit('.', 1)[0]}.{p.__name__[1:].removesuffix('Proxy')}" for p in proxies]
        node = getattr(value, "node", None)
        return f"an imported {' / '.join(names) or 'resource'}" + (f" ({node.path})" if node is not None else "")
    noun = _article(_type_name(type(value)))
    if isinstance(value, Construct):
        return f"{noun} ({value.node.path})"
    return noun


def _make_hint(hint: Any) -> str:
    """How to make a value of ``hint``'s type: its ``from_*`` factories, or the library's classes of that kind."""
    for arm in _arms(hint):
        if not isinstance(arm, type) or arm is type(None):
            continue
        factories = sorted(name for name in dir(arm) if name.startswith("from_") and not name.startswith("from_json"))
        if arm.__module__.startswith("constructs_lib.") and factories:
            return f" (make one with {', '.join(f'{arm.__name__}.{f}(...)' for f in factories[:5])})"
        # the library's own kinds (a user's subclasses are theirs to know)
        known: list[type] = list(arm.__subclasses__())
        subclasses = [sub for sub in known if sub.__module__.startswith("constructs_lib.")]
        if arm.__module__.startswith("constructs_lib.") and subclasses:
            kinds = sorted(sub.__name__ for sub in subclasses if not sub.__name__.startswith("_"))
            return f" ({', '.join(kinds)})"
    return ""


# What to wrap a resource in, when a route is expected: (interface, route).
_ROUTE_FOR = (
    ("aws_cdk.aws_sqs", "IQueue", "QueueRoute(queue)"),
    ("aws_cdk.aws_sns", "ITopic", "TopicRoute(topic)"),
    ("aws_cdk.aws_lambda", "IFunction", "FunctionRoute(function)"),
    ("aws_cdk.aws_events", "IEventBus", "EventBusRoute(event_bus)"),
    ("aws_cdk.aws_s3", "IBucket", "BucketRoute(bucket)"),
    ("aws_cdk.aws_kinesis", "IStream", "StreamRoute(stream)"),
    ("aws_cdk.aws_stepfunctions", "IStateMachine", "StateMachineRoute(state_machine)"),
)


def _fix(value: Any, hint: Any) -> str:  # noqa: PLR0911 - one hint per common mistake
    """The fix for the commonest mistakes: a resource where a route is expected, a CDK destination, a class
    instead of an instance, a number of seconds instead of a Duration, a string instead of an enum member."""
    import importlib

    expected = [arm for arm in _arms(hint) if isinstance(arm, type)]
    names = {arm.__name__ for arm in expected}
    if isinstance(value, type) and any(issubclass(value, arm) for arm in expected if arm is not type(None)):
        return f"; give an instance: {value.__name__}(...)"
    if "Route" in names:
        for module, interface, route in _ROUTE_FOR:
            if implements(value, getattr(importlib.import_module(module), interface)):
                return f"; wrap it in a route: {route}"
        if type(value).__module__ == "aws_cdk.aws_lambda_destinations":
            return (
                "; the library makes the Lambda destination from a route: give QueueRoute(queue), TopicRoute(topic), "
                "FunctionRoute(function) or EventBusRoute(event_bus)"
            )
    if "Step" in names:
        from aws_cdk import aws_lambda as lambda_

        if implements(value, lambda_.IFunction):
            return "; wrap it in a step: Invoke('StepName', function)"
    if "Duration" in names and isinstance(value, int | float) and not isinstance(value, bool):
        return f"; give a Duration, e.g. Duration.seconds({value:g})"
    enums = [arm for arm in expected if issubclass(arm, enum.Enum)]
    for enum_type in enums:
        matches = [member for member in enum_type if str(value) in (member.value, member.name)]
        if matches:
            return f"; use {enum_type.__name__}.{matches[0].name}"
        return f"; use one of {', '.join(f'{enum_type.__name__}.{m.name}' for m in enum_type)}"
    if isinstance(value, str) and "://" in value:
        return (
            "; a URL given here would be written into the template: keep it in Secrets Manager (or an SSM "
            "SecureString parameter) and give the secret"
        )
    if isinstance(value, str) and any(_is_jsii_interface(arm) for arm in expected):
        return "; give the resource itself (import one by name or ARN with its from_* method), not its name"
    if isinstance(value, bool) and ({"int", "float"} & names):
        return "; give a number, not True or False"
    if isinstance(value, str) and any(
        typing.get_origin(arm) in (collections.abc.Sequence, list) for arm in _arms(hint)
    ):
        return f"; give a list: [{value!r}]"
    if value is None:
        return f"; this prop is required{_make_hint(hint)}"
    return _make_hint(hint)


__all__ = [
    "check_call",
    "check_value",
    "checked_props",
    "checks_props",
    "describe_type",
    "describe_value",
    "implements",
]
