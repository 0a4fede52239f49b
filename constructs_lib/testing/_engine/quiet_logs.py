"""Expected failures stay out of the log: moto's ASL interpreter logs an ERROR line (with the whole error payload) for
every state that fails, though a failing state is an outcome the test asked for and reads from ``ExecutionResult``
(its error, cause and history). Python prints such a record on stderr even when nothing configured logging."""

from __future__ import annotations

import logging
from collections.abc import Callable

_INTERPRETER = "moto.stepfunctions.parser.asl.component.eval_component"
_STATE_FAILED = "Exception=FailureEventException"
"""How the interpreter's record of a state failure begins: a task error, a Fail state, a States.* error. Anything
else it logs (an exception of the interpreter itself) is kept."""


class _DropStateFailures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_STATE_FAILED)


_DURABLE_SDK_LOGGERS = ("aws_durable_execution_sdk_python", "aws_durable_execution_sdk_python_testing")
"""The durable execution SDK logs the function's own failure (with its traceback) and its testing service logs how
each execution ended: outcomes a test reads from ``DurableExecutionResult``."""


def install() -> Callable[[], None]:
    """Drop the interpreter's records of state failures and the durable SDK's records of outcomes while the kit runs;
    returns the undo."""
    logger = logging.getLogger(_INTERPRETER)
    state_failures = _DropStateFailures()
    logger.addFilter(state_failures)
    # A level on the package's logger reaches its modules' loggers (theirs are unset); a filter would not.
    durable_loggers = {name: logging.getLogger(name) for name in _DURABLE_SDK_LOGGERS}
    levels = {name: durable_logger.level for name, durable_logger in durable_loggers.items()}
    for durable_logger in durable_loggers.values():
        durable_logger.setLevel(logging.CRITICAL)

    def undo() -> None:
        logger.removeFilter(state_failures)
        for name, durable_logger in durable_loggers.items():
            durable_logger.setLevel(levels[name])

    return undo
