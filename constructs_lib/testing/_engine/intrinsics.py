"""CloudFormation intrinsic functions: the one resolver of the kit, the ASL checks and the diagrams.

Supports what CDK templates use: ``Ref`` (resources, parameters, pseudo parameters), ``Fn::GetAtt`` (both forms),
``Fn::Join``, ``Fn::Sub`` (both forms), ``Fn::Select``, ``Fn::Split``, ``Fn::Base64``, ``Fn::GetAZs``,
``Fn::FindInMap``, ``Fn::If`` / ``Fn::Equals`` / ``Fn::And`` / ``Fn::Or`` / ``Fn::Not`` / ``Condition``,
``Fn::ImportValue`` (from values the test gives) and ``AWS::NoValue``.

Two ways to resolve: against the local resources the kit made (``Resolver`` with their physical identities: what
cannot be resolved is a ``TemplateError``), or with ``Placeholders`` for a template that was never deployed (values of
the right shape made from logical ids: ARNs, queue URLs, names; what only a deployment knows, such as a condition or
an imported value, becomes the placeholders' ``unknown`` value).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()
"""The value of ``Ref: AWS::NoValue``: the property is removed."""

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_CONDITION_FUNCTIONS = frozenset({"Fn::If", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"})
"""Functions whose value depends on parameter values: unknown to placeholders."""


class TemplateError(ValueError):
    """The template uses something the local kit cannot resolve; the message says what and how to fix it."""


@dataclass
class Physical:
    """What a resource is locally: its ``Ref`` value and its ``Fn::GetAtt`` attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


def references(value: Any) -> Iterator[str]:
    """Every logical id that ``value`` refers to (Ref, GetAtt, Sub variables)."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str) and not inner.startswith("AWS::"):
            yield inner
        elif key == "Fn::GetAtt":
            target = inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0]
            yield str(target)
        elif key == "Fn::Sub":
            text = inner[0] if isinstance(inner, list) else inner
            variables = inner[1] if isinstance(inner, list) and len(inner) > 1 else {}
            for name in _SUB_VARIABLE.findall(str(text)):
                if name.startswith("!") or name in variables or name.startswith("AWS::"):
                    continue
                yield name.split(".", 1)[0]
            yield from references(variables)
        else:
            yield from references(inner)


class Resolver:
    """Resolves intrinsic functions. ``physical`` gives the local identity of a resource by logical id."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        physical: Callable[[str], Physical],
        pseudo: Mapping[str, str],
        parameters: Mapping[str, str] | None = None,
        imports: Mapping[str, str] | None = None,
        unknown: Callable[[str, Any], Any] | None = None,
    ) -> None:
        """
        :param unknown: the value of what only a deployment knows (a condition, an imported value not given, an
            intrinsic function not modelled), from the function's name and argument. :default: - a
            ``TemplateError`` that says what is missing.
        """
        self._template = template
        self._physical = physical
        self._pseudo = dict(pseudo)
        self._parameters = dict(parameters or {})
        self._imports = dict(imports or {})
        self._unknown = unknown
        self._conditions: dict[str, bool] = {}

    # -- conditions ---------------------------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self._template.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"condition {name!r} is not defined in the template's Conditions")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    # -- values -------------------------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, inner),) = value.items()
            if self._unknown is not None and key in _CONDITION_FUNCTIONS:
                return self._unknown(key, inner)
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, inner)
            if key.startswith("Fn::"):
                return self._cannot(
                    key, inner, f"{key} is not supported by the local kit (in {json.dumps(value)[:200]})"
                )
        resolved = {key: self.resolve(inner) for key, inner in value.items()}
        return {key: inner for key, inner in resolved.items() if inner is not NO_VALUE}

    def _cannot(self, function: str, argument: Any, message: str) -> Any:
        """What only a deployment knows: the placeholders' ``unknown`` value, or a ``TemplateError``."""
        if self._unknown is None:
            raise TemplateError(message)
        return self._unknown(function, argument)

    def _ref(self, name: Any) -> Any:
        name = str(name)
        if name == "AWS::NoValue":
            return NO_VALUE
        if name.startswith("AWS::"):
            if name not in self._pseudo:
                raise TemplateError(f"pseudo parameter {name} is not supported by the local kit")
            return self._pseudo[name]
        if name in self._template.get("Parameters", {}):
            return self._parameter(name)
        return self._physical(name).ref

    def _parameter(self, name: str) -> Any:
        if name in self._parameters:
            return self._parameters[name]
        definition = self._template["Parameters"][name]
        if "Default" not in definition:
            raise TemplateError(f"parameter {name} has no default: pass parameters={{{name!r}: ...}} to the kit")
        default = definition["Default"]
        if str(definition.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            return f"local-ssm-value-of:{default}"
        return default

    def _get_att(self, inner: Any) -> str:
        logical_id, attribute = inner if isinstance(inner, list) else str(inner).split(".", 1)
        attribute = str(self.resolve(attribute))
        physical = self._physical(str(logical_id))
        if attribute not in physical.attributes:
            known = ", ".join(sorted(physical.attributes)) or "none"
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{attribute}: the local kit knows these attributes of {logical_id}: {known}"
            )
        return physical.attributes[attribute]

    def _join(self, inner: Any) -> Any:
        separator, parts = inner
        if not isinstance(separator, str):
            raise TemplateError(
                f"Fn::Join takes a literal string delimiter, got {separator!r}: CloudFormation refuses the template"
            )
        values = self.resolve(parts)
        if not isinstance(values, list):
            return self._cannot("Fn::Join", inner, f"Fn::Join takes a list of values, got {json.dumps(values)[:200]}")
        return separator.join(text_of(part) for part in values)

    def _sub(self, inner: Any) -> str:
        text, variables = (inner[0], inner[1]) if isinstance(inner, list) else (inner, {})
        values = {key: self.resolve(value) for key, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return text_of(values[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(name)
            return text_of(self._ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))

    def _select(self, inner: Any) -> Any:
        index, items = inner
        values, position = self.resolve(items), int(self.resolve(index))
        if not isinstance(values, list) or not 0 <= position < len(values):
            return self._cannot(
                "Fn::Select", inner, f"Fn::Select {position} of {json.dumps(values)[:200]}: no such item"
            )
        return values[position]

    def _split(self, inner: Any) -> list[str]:
        separator, text = inner
        return str(self.resolve(text)).split(str(separator))

    def _base64(self, inner: Any) -> str:
        return base64.b64encode(text_of(self.resolve(inner)).encode()).decode()

    def _get_azs(self, inner: Any) -> list[str]:
        region = str(self.resolve(inner)) or self._pseudo["AWS::Region"]
        return [f"{region}{suffix}" for suffix in "abc"]

    def _find_in_map(self, inner: Any) -> Any:
        name, top, second = (self.resolve(part) for part in inner[:3])
        try:
            return self._template["Mappings"][name][top][second]
        except (KeyError, TypeError):
            return self._cannot(
                "Fn::FindInMap", inner, f"Fn::FindInMap: no {name}/{top}/{second} in the template's Mappings"
            )

    def _import_value(self, inner: Any) -> Any:
        name = str(self.resolve(inner))
        if name not in self._imports:
            return self._cannot(
                "Fn::ImportValue",
                name,
                f"Fn::ImportValue {name!r}: the stack imports a value from another stack; pass "
                f"imports={{{name!r}: '<value>'}} to the kit",
            )
        return self._imports[name]

    def _if(self, inner: Any) -> Any:
        name, when_true, when_false = inner
        return self.resolve(when_true if self.condition(str(name)) else when_false)

    def _equals(self, inner: Any) -> bool:
        left, right = (self.resolve(part) for part in inner)
        return bool(left == right)

    def _and(self, inner: Any) -> bool:
        return all(bool(self.resolve(part)) for part in inner)

    def _or(self, inner: Any) -> bool:
        return any(bool(self.resolve(part)) for part in inner)

    def _not(self, inner: Any) -> bool:
        return not bool(self.resolve(inner[0]))

    def _to_json_string(self, inner: Any) -> str:
        return json.dumps(self.resolve(inner), separators=(",", ":"))

    def _length(self, inner: Any) -> int:
        return len(self.resolve(inner))

    def _condition_value(self, inner: Any) -> bool:
        return self.condition(str(inner))

    _FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Join": _join,
        "Fn::Sub": _sub,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::Base64": _base64,
        "Fn::GetAZs": _get_azs,
        "Fn::FindInMap": _find_in_map,
        "Fn::ImportValue": _import_value,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::And": _and,
        "Fn::Or": _or,
        "Fn::Not": _not,
        "Condition": _condition_value,
        "Fn::ToJsonString": _to_json_string,
        "Fn::Length": _length,
    }


def text_of(value: Any) -> str:
    """A resolved value as CloudFormation puts it in a string (booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class AnyAttributes(dict[str, str]):
    """The attributes of a resource whose attributes are not all known: any other one is ``missing(name)``."""

    def __init__(self, known: Mapping[str, str], missing: Callable[[str], str]) -> None:
        super().__init__(known)
        self._missing = missing

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return self._missing(key)


_ARN_SHAPES: dict[str, tuple[str, str]] = {
    "AWS::Lambda::Function": ("lambda", "function:{}"),
    "AWS::SQS::Queue": ("sqs", "{}"),
    "AWS::SNS::Topic": ("sns", "{}"),
    "AWS::Events::EventBus": ("events", "event-bus/{}"),
    "AWS::Events::Rule": ("events", "rule/{}"),
    "AWS::S3::Bucket": ("s3", "{}"),
    "AWS::StepFunctions::StateMachine": ("states", "stateMachine:{}"),
    "AWS::StepFunctions::Activity": ("states", "activity:{}"),
    "AWS::DynamoDB::Table": ("dynamodb", "table/{}"),
    "AWS::SecretsManager::Secret": ("secretsmanager", "secret:{}"),
    "AWS::SageMaker::Endpoint": ("sagemaker", "endpoint/{}"),
    "AWS::Kinesis::Stream": ("kinesis", "stream/{}"),
}
"""The service and resource part of the ARN of each resource type whose ARN a placeholder can have."""
_REF_IS_ARN = frozenset({"AWS::SNS::Topic", "AWS::StepFunctions::StateMachine", "AWS::StepFunctions::Activity"})


@dataclass(frozen=True)
class Placeholders:
    """Values of the right shape for a template that was never deployed, made from logical ids: a function's ARN,
    a queue's URL, a table's name. For reading what a template means without a deployment (diagrams, ASL checks)."""

    account: str
    region: str
    name: Callable[[str], str]
    """A logical id (or a parameter's name) as it stands in a placeholder."""
    attribute: Callable[[str, str], str]
    """A ``Fn::GetAtt`` attribute that is not an ARN of a known shape or a queue URL, from the logical id and name."""
    unknown: Callable[[str, Any], Any]
    """What only a deployment knows (a condition, an imported value), from the intrinsic function and its argument."""

    def resolver(self, template: Mapping[str, Any]) -> Resolver:
        declared: Mapping[str, Any] = template.get("Resources", {})
        return Resolver(
            template,
            physical=lambda logical_id: self._physical(logical_id, str(declared.get(logical_id, {}).get("Type", ""))),
            pseudo={
                "AWS::AccountId": self.account,
                "AWS::Region": self.region,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": "stack",
                "AWS::StackId": "stack",
                "AWS::NotificationARNs": "",
            },
            parameters={name: self.name(name) for name in template.get("Parameters", {})},
            unknown=self.unknown,
        )

    def _physical(self, logical_id: str, resource_type: str) -> Physical:
        name = self.name(logical_id)
        url = f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
        known: dict[str, str] = {"QueueUrl": url}
        if resource_type in _ARN_SHAPES:
            service, resource = _ARN_SHAPES[resource_type]
            region, account = ("", "") if service == "s3" else (self.region, self.account)
            known["Arn"] = f"arn:aws:{service}:{region}:{account}:{resource.format(name)}"
        ref = url if resource_type == "AWS::SQS::Queue" else known["Arn"] if resource_type in _REF_IS_ARN else name
        return Physical(
            ref=ref, attributes=AnyAttributes(known, lambda attribute: self.attribute(logical_id, attribute))
        )


def state_machine_definitions(template: Mapping[str, Any], placeholders: Placeholders) -> dict[str, dict[str, Any]]:
    """Every state machine's definition in ``template`` (by logical id), its tokens and definition substitutions
    resolved to ``placeholders``; a definition that does not resolve to an object is left out."""
    resolver = placeholders.resolver(template)
    definitions: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::StepFunctions::StateMachine":
            continue
        properties = resource.get("Properties", {})
        definition = resolver.resolve(properties.get("DefinitionString", properties.get("Definition")))
        if isinstance(definition, str):
            for key, value in resolver.resolve(properties.get("DefinitionSubstitutions", {})).items():
                definition = definition.replace("${" + key + "}", text_of(value))
            definition = json.loads(definition)
        if isinstance(definition, dict):
            definitions[logical_id] = definition
    return definitions
