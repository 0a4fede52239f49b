"""CloudFormation intrinsic functions, resolved against the local resources the kit made.

Supports what CDK templates use: ``Ref`` (resources, parameters, pseudo parameters), ``Fn::GetAtt`` (both forms),
``Fn::Join``, ``Fn::Sub`` (both forms), ``Fn::Select``, ``Fn::Split``, ``Fn::Base64``, ``Fn::GetAZs``,
``Fn::FindInMap``, ``Fn::If`` / ``Fn::Equals`` / ``Fn::And`` / ``Fn::Or`` / ``Fn::Not`` / ``Condition``,
``Fn::ImportValue`` (from values the test gives) and ``AWS::NoValue``.
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
    ) -> None:
        self._template = template
        self._physical = physical
        self._pseudo = dict(pseudo)
        self._parameters = dict(parameters or {})
        self._imports = dict(imports or {})
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
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, inner)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the local kit (in {json.dumps(value)[:200]})")
        resolved = {key: self.resolve(inner) for key, inner in value.items()}
        return {key: inner for key, inner in resolved.items() if inner is not NO_VALUE}

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

    def _join(self, inner: Any) -> str:
        separator, parts = inner
        if not isinstance(separator, str):
            raise TemplateError(
                f"Fn::Join takes a literal string delimiter, got {separator!r}: CloudFormation refuses the template"
            )
        values = self.resolve(parts)
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
        return self.resolve(items)[int(self.resolve(index))]

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
        except KeyError:
            raise TemplateError(f"Fn::FindInMap: no {name}/{top}/{second} in the template's Mappings") from None

    def _import_value(self, inner: Any) -> str:
        name = str(self.resolve(inner))
        if name not in self._imports:
            raise TemplateError(
                f"Fn::ImportValue {name!r}: the stack imports a value from another stack; pass "
                f"imports={{{name!r}: '<value>'}} to the kit"
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
