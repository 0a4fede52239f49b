"""Error names as Step Functions passes them on: a ``States.*`` error raised inside a Parallel branch or a Map
iteration fails the Parallel or Map with that same name, and a Fail state whose ``ErrorPath`` selects one ends the
execution with it.

moto wraps the error name of a failed branch, a failed iteration and a Fail state in its ``CustomErrorName``, which
refuses names that begin with ``States.`` (the prefix Amazon States Language reserves for the errors Step Functions
itself raises). The refusal became a ``States.Runtime`` error whose cause was the Python exception, and no Retry or
Catch could match the branch's error by its name.
"""

from __future__ import annotations

import functools
from typing import Any

RESERVED_PREFIX = "States."


def install(patches: Any) -> None:
    """Replace ``CustomErrorName`` where moto names a branch's, an iteration's or a Fail state's error
    (``patches`` is the kit's undoable patch set)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
    from moto.stepfunctions.parser.asl.component.state.fail import state_fail

    for module in (branches_decl, iteration_worker, state_fail):
        patches.replace(module, "CustomErrorName", error_name)


def error_name(error_name: Any) -> Any:
    """moto's error name object for ``error_name``: a ``States.*`` name as the error Step Functions raised (so that
    ``ErrorEquals: ["States.Timeout"]`` matches it), any other as moto's own custom error name."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName

    name = error_name  # moto passes it by keyword, as ``CustomErrorName(error_name=...)``
    if not isinstance(name, str) or not name.startswith(RESERVED_PREFIX):
        return CustomErrorName(error_name=name)
    try:
        return StatesErrorName.from_name(name)
    except ValueError:  # a States.* name moto does not know: kept as given, matched by its text
        return _kept_error_name()(error_name=name)


@functools.cache
def _kept_error_name() -> Any:
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName

    class KeptErrorName(ErrorName):
        """An error name taken as given."""

    return KeptErrorName
