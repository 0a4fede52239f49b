"""The zero-code-change handler: ``slack_reporter.wrapper.handler``.

The ``SlackErrorReporter`` construct sets a function's handler to this one and moves the original handler string
(``app.handler``, ``folder/module.function``) to ``SLACK_REPORTER_HANDLER``. The original module is imported when
the runtime imports this one, in the function's init phase as without the wrapper (provisioned concurrency and
SnapStart still initialise it ahead of the first request). An uncaught exception is reported to Slack and then
re-raised: the same exception object, so the runtime's ``errorType`` and ``errorMessage``, Lambda retries and
destinations, and a Step Functions ``Catch`` see exactly what they would see without the wrapper. An exception while
importing the original module is reported too (without a request id), then raised.

Init cost: this module imports nothing beyond what the interpreter has already loaded (see
``benchmarks/slack_layer_cold_start.py``).
"""

from __future__ import annotations

import os
import sys

from . import _report_uncaught

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

HANDLER_ENV = "SLACK_REPORTER_HANDLER"


class HandlerConfigurationError(Exception):
    """``SLACK_REPORTER_HANDLER`` is missing, malformed, or names no callable."""


def _load_original() -> Callable[[Any, Any], Any]:
    spec = os.environ.get(HANDLER_ENV, "")
    module_name, _, attribute = spec.rpartition(".")
    if not module_name or not attribute:
        raise HandlerConfigurationError(
            f"{HANDLER_ENV} must name the function's original handler as module.function (the SlackErrorReporter "
            f"construct sets it), got {spec!r}"
        )
    module_name = module_name.replace("/", ".")  # the Python runtime accepts folder/module.function
    if module_name == __name__:
        raise HandlerConfigurationError(f"{HANDLER_ENV} names the wrapper itself ({spec!r}): give the original")
    try:
        __import__(module_name)  # not importlib: it is not loaded yet on a cold start, and costs init time
    except Exception as error:
        _report_uncaught(error, None)
        raise
    original = getattr(sys.modules[module_name], attribute, None)
    if not callable(original):
        raise HandlerConfigurationError(f"Handler '{attribute}' missing on module '{module_name}' ({HANDLER_ENV})")
    return original  # type: ignore[no-any-return]


_original = _load_original()


def handler(event: Any, context: Any) -> Any:
    """Call the original handler; on an uncaught exception report it to Slack, then re-raise it unchanged."""
    try:
        return _original(event, context)
    except Exception as error:
        _report_uncaught(error, context)
        raise
