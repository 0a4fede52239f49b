"""A griffe extension for the API reference: the docstrings' ``:default:`` fields made readable.

The library's docstrings use the field style of aws-cdk-lib's Python bindings::

    :param on_failure: where failed invocations go. :default: - a new encrypted SQS queue

griffe's Sphinx parser reads ``:param name:`` fields but not ``:default:``, which would show as it is. Before the
docstrings are parsed, this extension turns ``:default: - x`` (and ``:default: x``) into ``*Default:* x`` inside the
text it belongs to, and a ``:default name: x`` field of its own into ``:param name: *Default:* x`` (or into a line of
the text when ``name`` already has a ``:param``). mkdocs.yml loads it (``extensions: [docs/griffe_fields.py]``);
tests/repository/test_docs.py fails when a built API page still shows ``:default``.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from griffe import Extension, Object, ObjectNode

_INLINE_DEFAULT = re.compile(r"(?<!\S):default:(?:[ \t]+-(?=[ \t]))?[ \t]*")
_NAMED_DEFAULT_LINE = re.compile(r"^(?P<indent>[ \t]*):default (?P<name>\w+):(?:[ \t]+-(?=[ \t]))?[ \t]*", re.MULTILINE)
_NAMED_DEFAULT = re.compile(r"(?<!\S):default (?P<name>\w+):(?:[ \t]+-(?=[ \t]))?[ \t]*")


def readable_defaults(docstring: str) -> str:
    """The docstring with its ``:default:`` fields rewritten as described in the module docstring."""
    documented = set(re.findall(r":param (\w+):", docstring))

    def named_line(match: re.Match[str]) -> str:
        name = match["name"]
        if name in documented:
            return f"{match['indent']}*Default of `{name}`:* "
        documented.add(name)
        return f"{match['indent']}:param {name}: *Default:* "

    text = _NAMED_DEFAULT_LINE.sub(named_line, docstring)
    text = _NAMED_DEFAULT.sub(lambda m: f"*Default of `{m['name']}`:* ", text)
    return _INLINE_DEFAULT.sub("*Default:* ", text)


class ReadableDefaults(Extension):
    """Rewrites every docstring's ``:default:`` fields before the Sphinx-style parser reads it."""

    def on_instance(self, *, node: ast.AST | ObjectNode, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = readable_defaults(obj.docstring.value)
