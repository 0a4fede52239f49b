"""Report a Lambda function's errors to Slack: standard library only.

Zero code change: the ``SlackErrorReporter`` construct sets the function's handler to
``slack_reporter.wrapper.handler`` and moves the original handler to ``SLACK_REPORTER_HANDLER``; any uncaught exception
is posted to Slack, then re-raised unchanged.

Explicit use, for handled errors or without the wrapper::

    from slack_reporter import report, report_errors

    @report_errors                      # uncaught errors: reported, then re-raised
    def handler(event, context):
        try:
            charge(event)
        except CardDeclinedError as error:
            report(error, context=context)   # handled: reported, not raised
            return {"status": "DECLINED"}

Importing this package costs a fraction of a millisecond: the reporting machinery (json, urllib, logging, and boto3
to read the webhook) is loaded on the first report only. Reporting never raises into the function.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from .reporting import Reporter

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["get_reporter", "report", "report_errors"]

_reporter: Reporter | None = None


def get_reporter() -> Reporter:
    """The reporter of this container (made on first use: it reads its settings from the environment)."""
    global _reporter  # noqa: PLW0603 - one reporter per container, made on the first report
    if _reporter is None:
        from .reporting import Reporter

        _reporter = Reporter()
    return _reporter


def report(error: BaseException, context: object | None = None) -> str:
    """Post a handled error to Slack. Never raises.

    :param error: the exception (its type, message and traceback are posted).
    :param context: the Lambda context of the invocation (request id, function version, log stream, time left).
    :returns: ``"sent"``, ``"suppressed"`` (rate limit: counted in the next message), ``"failed"`` (logged as a
        warning), ``"unconfigured"`` (no webhook) or ``"duplicate"`` (this exception object was reported already).
    """
    try:
        return get_reporter().report_exception(error, context, handled=True)
    except Exception as failure:  # reporting never breaks the function
        _warn_unexpected(failure)
        return "failed"


def report_errors(function: F) -> F:
    """Decorate a handler: an uncaught exception is reported to Slack, then re-raised unchanged (same object)."""

    def reporting_handler(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            _report_uncaught(error, _find_context(args, kwargs))
            raise

    # functools.wraps without importing functools (2 ms of init on a cold start).
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        if hasattr(function, name):
            setattr(reporting_handler, name, getattr(function, name))
    reporting_handler.__dict__.update(getattr(function, "__dict__", {}))
    reporting_handler.__wrapped__ = function  # type: ignore[attr-defined]
    return reporting_handler  # type: ignore[return-value]


def _report_uncaught(error: BaseException, context: object | None) -> None:
    """Report an exception that is about to propagate; never raises (the caller re-raises the original)."""
    try:
        get_reporter().report_exception(error, context, handled=False)
    except Exception as failure:
        _warn_unexpected(failure)


def _find_context(args: tuple[Any, ...], kwargs: dict[str, Any]) -> object | None:
    """The Lambda context among a handler's arguments: ``handler(event, context)``."""
    candidates = [kwargs.get("context"), *args[1:2]]
    return next((value for value in candidates if hasattr(value, "aws_request_id")), None)


def _warn_unexpected(failure: Exception) -> None:
    import logging

    logging.getLogger("slack_reporter").warning(
        "slack_reporter: the error could not be reported (%s: %s); the function's own error is unchanged",
        type(failure).__name__,
        failure,
    )
