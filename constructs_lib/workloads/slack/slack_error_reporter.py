"""SlackErrorReporter: a Lambda layer that posts a function's uncaught errors to Slack, with no code change.

    reporter = SlackErrorReporter(self, "Slack", webhook=SlackWebhook.from_secret(secret))
    reporter.wrap(function)          # handler -> slack_reporter.wrapper.handler; the original moves to an env var

The layer (``runtime/reporter_layer``, standard library only) reports, then re-raises the same exception, so
retries, destinations and a Step Functions ``Catch`` see the same ``errorType``. The webhook URL lives in Secrets
Manager (or an SSM SecureString parameter): the template and the environment only name where it is, and only the
wrapped functions may read it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib._internal.assets import LAYER_RUNTIMES, runtime_code
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.validation import Problems, is_unresolved

LAYER_ASSET = "reporter_layer"
WRAPPER_HANDLER = "slack_reporter.wrapper.handler"
HANDLER_ENV = "SLACK_REPORTER_HANDLER"
SECRET_ENV = "SLACK_WEBHOOK_SECRET_ARN"
SECRET_FIELD_ENV = "SLACK_WEBHOOK_SECRET_FIELD"
PARAMETER_ENV = "SLACK_WEBHOOK_PARAMETER_NAME"
TIMEOUT_ENV = "SLACK_REPORTER_TIMEOUT_SECONDS"
MIN_INTERVAL_ENV = "SLACK_REPORTER_MIN_INTERVAL_SECONDS"
COMPATIBLE_RUNTIMES = LAYER_RUNTIMES
COMPATIBLE_ARCHITECTURES = (lambda_.Architecture.X86_64, lambda_.Architecture.ARM_64)
MIN_TIMEOUT_MS = 100
MAX_TIMEOUT_MS = 10_000
MAX_MIN_INTERVAL_MS = 60_000
_LOOKS_LIKE_URL = re.compile(r"^\s*[a-z][a-z0-9+.-]*://|hooks\.slack(-gov)?\.com", re.IGNORECASE)
# Slack's tokens: bot, user, app-level, legacy workspace and configuration tokens (xoxb-, xoxp-, xapp-, ...).
_LOOKS_LIKE_SLACK_TOKEN = re.compile(r"\b(xox[abeoprs]|xapp)-[0-9A-Za-z-]{8,}")
_PARAMETER_NAME = re.compile(r"^/?[a-zA-Z0-9_.\-/]{1,2047}$")


def looks_like_webhook_url(value: object) -> bool:
    """Whether a string is (probably) a URL or a Slack token rather than the name or ARN of where one is stored."""
    if not isinstance(value, str) or is_unresolved(value):
        return False
    return bool(_LOOKS_LIKE_URL.search(value) or _LOOKS_LIKE_SLACK_TOKEN.search(value))


_URL_REFUSED = (
    "the webhook URL is a credential and is never given to the construct: it would be in the template and the "
    "function's environment. Store it in Secrets Manager (aws secretsmanager create-secret --name slack/webhook "
    "--secret-string <url>) or as an SSM SecureString parameter, and give SlackWebhook.from_secret(...) or "
    "SlackWebhook.from_parameter(name)"
)


@dataclass(frozen=True)
class SlackWebhook:
    """Where the Slack incoming-webhook URL is stored. Build with ``from_secret`` or ``from_parameter``."""

    secret: secretsmanager.ISecret | None = None
    secret_field: str | None = None
    parameter_name: str | None = None
    encryption_key: kms.IKey | None = None

    @classmethod
    def from_secret(cls, secret: secretsmanager.ISecret, *, field: str | None = None) -> SlackWebhook:
        """A Secrets Manager secret (made in the app or imported, e.g. ``Secret.from_secret_name_v2``).

        :param field: the secret is a JSON object and the URL is this field of it.
            :default: - the value is the URL, or a JSON object with ``webhook_url``, ``webhookUrl`` or ``url``.
        Its KMS key, if it has one (``secret.encryption_key``), gets a decrypt grant too.
        """
        return cls(secret=secret, secret_field=field)

    @classmethod
    def from_parameter(cls, parameter_name: str, *, encryption_key: kms.IKey | None = None) -> SlackWebhook:
        """An SSM SecureString parameter, by name (``/slack/webhook``). CloudFormation cannot make SecureString
        parameters: create it with ``aws ssm put-parameter --type SecureString``.

        :param encryption_key: the customer managed key of the parameter. :default: - the AWS managed key
            ``aws/ssm``, which needs no grant.
        """
        return cls(parameter_name=parameter_name, encryption_key=encryption_key)

    def validate(self, problems: Problems) -> None:
        if (self.secret is None) == (self.parameter_name is None):
            problems.add(
                "webhook: give SlackWebhook.from_secret(secret) or SlackWebhook.from_parameter(name), exactly one"
            )
        name = self.parameter_name
        if name is not None:
            if looks_like_webhook_url(name):
                problems.add(
                    f"webhook: from_parameter takes the parameter's name, not a URL or a Slack token: {_URL_REFUSED}"
                )
            elif is_unresolved(name):
                problems.add(
                    "webhook: from_parameter needs the parameter name as a literal (its ARN is made at synth), "
                    "not a token"
                )
            elif not _PARAMETER_NAME.match(name):
                problems.add(
                    f"webhook: {name!r} is not an SSM parameter name (letters, digits, _ . - / ; up to 2048 characters)"
                )
        if self.secret_field is not None and looks_like_webhook_url(self.secret_field):
            problems.add(
                f"webhook: field names the JSON field that holds the URL, not the URL or a Slack token: {_URL_REFUSED}"
            )


class SlackErrorReporter(Construct):
    """A Lambda layer that reports functions' errors to Slack, and the wiring that adds it to functions."""

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        webhook: SlackWebhook,
        functions: Sequence[lambda_.IFunction] = (),
        timeout: Duration | None = None,
        min_interval: Duration | None = None,
    ) -> None:
        """
        :param webhook: where the webhook URL is stored: ``SlackWebhook.from_secret(secret)`` or
            ``SlackWebhook.from_parameter(name)``. Never the URL itself (refused at synth).
        :param functions: functions to ``wrap`` now (more with ``wrap`` later).
        :param timeout: timeout of one post to Slack, 100 ms to 10 s; always cut to the invocation's remaining
            time. :default: 2 seconds.
        :param min_interval: at most one message per this interval per container (Slack takes about one a second
            per webhook); what is held back is counted in the next message. 0 to 60 s. :default: 1 second.
        """
        super().__init__(scope, construct_id)
        problems = Problems()
        if isinstance(webhook, SlackWebhook):
            webhook.validate(problems)
        elif looks_like_webhook_url(webhook):
            problems.add(f"webhook is a URL string: {_URL_REFUSED}")
        else:
            problems.add(
                "webhook must be SlackWebhook.from_secret(secret) or SlackWebhook.from_parameter(name), "
                f"got {type(webhook).__name__}"
            )
        self.timeout = timeout if timeout is not None else Duration.seconds(2)
        self.min_interval = min_interval if min_interval is not None else Duration.seconds(1)
        timeout_ms = _millis(self.timeout)
        if timeout_ms is not None and not MIN_TIMEOUT_MS <= timeout_ms <= MAX_TIMEOUT_MS:
            problems.add(
                f"timeout must be between 100 ms and 10 s (a post to Slack takes well under a second), "
                f"got {timeout_ms:g} ms"
            )
        interval_ms = _millis(self.min_interval)
        if interval_ms is not None and not 0 <= interval_ms <= MAX_MIN_INTERVAL_MS:
            problems.add(f"min_interval must be between 0 and 60 s, got {interval_ms:g} ms")
        for name, value in (("timeout", self.timeout), ("min_interval", self.min_interval)):
            if _seconds_text(value) is None:
                problems.add(
                    f"{name} is a token in another unit than seconds: the layer reads it in seconds from an "
                    f"environment variable, and CloudFormation cannot convert it; give Duration.seconds(token)"
                )
        problems.raise_if_any(self)

        self.webhook: SlackWebhook = webhook
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=runtime_code(__file__, LAYER_ASSET),
            compatible_runtimes=list(COMPATIBLE_RUNTIMES),
            compatible_architectures=list(COMPATIBLE_ARCHITECTURES),
            description="Reports Lambda errors to Slack (constructs_lib slack_reporter; standard library only)",
            license="Apache-2.0",
        )
        self.wrapped_functions: list[lambda_.Function] = []
        """Functions whose handler reports uncaught errors (``wrap``)."""
        self.attached_functions: list[lambda_.Function] = []
        """Functions that have the layer, its settings and read access to the webhook (``wrap`` and ``attach``)."""
        for function in functions:
            self.wrap(function)

    # ------------------------------------------------------------------------------------------------ functions

    @checked_props
    def wrap(self, function: lambda_.IFunction) -> None:
        """Report the function's uncaught errors to Slack with no code change.

        Adds the layer, sets the handler to ``slack_reporter.wrapper.handler`` and moves the original handler to
        the ``SLACK_REPORTER_HANDLER`` environment variable, and lets this function (only) read the webhook.
        Needs a Python function defined in this app (``lambda_.Function``): an imported function's handler cannot
        be changed. Wrapping a function twice does nothing the second time.
        """
        if any(function is wrapped for wrapped in self.wrapped_functions):
            return
        problems = Problems()
        made = self._check_function(function, problems, "wrap")
        resource = made.node.default_child if made is not None else None
        handler = resource.handler if isinstance(resource, lambda_.CfnFunction) else None
        if made is not None and isinstance(handler, str) and is_unresolved(handler):
            problems.add(f"wrap({made.node.path}): the handler is a token; give it as a literal string")
        elif made is not None and handler == WRAPPER_HANDLER:
            problems.add(
                f"wrap({made.node.path}): the handler is already {WRAPPER_HANDLER} (wrapped by another "
                "SlackErrorReporter?); wrap a function once"
            )
        problems.raise_if_any(self)
        assert made is not None
        assert isinstance(resource, lambda_.CfnFunction)
        assert isinstance(handler, str)
        self._attach(made)
        made.add_environment(HANDLER_ENV, handler)
        resource.handler = WRAPPER_HANDLER
        self.wrapped_functions.append(made)

    @checked_props
    def attach(self, function: lambda_.IFunction) -> None:
        """The layer, its settings and read access to the webhook, with the handler unchanged: for functions that
        use ``@report_errors`` or ``report(error, context=context)`` explicitly."""
        if any(function is attached for attached in self.attached_functions):
            return
        problems = Problems()
        made = self._check_function(function, problems, "attach")
        problems.raise_if_any(self)
        assert made is not None
        self._attach(made)

    def grant_read_webhook(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the webhook: ``secretsmanager:GetSecretValue`` on the secret (or ``ssm:GetParameter``
        on the parameter), and ``kms:Decrypt`` through that service when it has a customer managed key.

        Returns one grant for both."""
        stack = Stack.of(self)
        webhook = self.webhook
        if webhook.secret is not None:
            secret = webhook.secret
            # An imported secret's ARN may lack the 6 characters Secrets Manager appends to it: -?????? matches
            # exactly those (cdk-nag's IAM5 looks for "*" only, so this needs no acknowledgment).
            arn = secret.secret_full_arn or f"{secret.secret_arn}-??????"
            grant = iam.Grant.add_to_principal(
                grantee=grantee, actions=["secretsmanager:GetSecretValue"], resource_arns=[arn]
            )
            key = secret.encryption_key
            service = "secretsmanager"
        else:
            assert webhook.parameter_name is not None
            arn = stack.format_arn(
                service="ssm",
                resource="parameter",
                resource_name=webhook.parameter_name.lstrip("/"),
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            grant = iam.Grant.add_to_principal(grantee=grantee, actions=["ssm:GetParameter"], resource_arns=[arn])
            key = webhook.encryption_key
            service = "ssm"
        if key is not None:
            decrypt = iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["kms:Decrypt"],
                resource_arns=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}},
            )
            grant = grant.combine(decrypt)
        return grant

    # ------------------------------------------------------------------------------------------------ internals

    def _check_function(self, function: lambda_.IFunction, problems: Problems, verb: str) -> lambda_.Function | None:
        """The function as a ``lambda_.Function`` whose runtime the layer supports, or None (problems added)."""
        if not isinstance(function, lambda_.Function):
            kind = type(function).__name__
            hint = (
                "wrap the function itself (alias.version.lambda_ / version.lambda_)"
                if isinstance(function, lambda_.Version | lambda_.Alias)
                else "an imported function (from_function_arn / from_function_attributes) cannot be changed by "
                "this app: add the layer to it where it is defined, or use @report_errors and report() in its code"
            )
            problems.add(f"{verb}: needs a lambda_.Function defined in this app, got {kind}; {hint}")
            return None
        runtime = function.runtime
        supported = [r.name for r in COMPATIBLE_RUNTIMES]
        if runtime.name == lambda_.Runtime.FROM_IMAGE.name:
            problems.add(
                f"{verb}({function.node.path}): a container image function has no handler to wrap and takes no "
                "layers; copy the layer's python/slack_reporter package into the image and use @report_errors, "
                "or use a zip-packaged Python function"
            )
            return None
        if runtime.family != lambda_.RuntimeFamily.PYTHON or runtime.name not in supported:
            problems.add(
                f"{verb}({function.node.path}): the Slack reporter layer is Python ({', '.join(supported)}); the "
                f"function's runtime is {runtime.name}"
            )
            return None
        return function

    def _attach(self, function: lambda_.Function) -> None:
        if any(function is attached for attached in self.attached_functions):
            return
        function.add_layers(self.layer)
        for key, value in self._environment().items():
            function.add_environment(key, value)
        self.grant_read_webhook(function)
        self.attached_functions.append(function)

    def _environment(self) -> dict[str, str]:
        webhook = self.webhook
        environment: dict[str, str] = {
            TIMEOUT_ENV: _seconds_text(self.timeout) or "",
            MIN_INTERVAL_ENV: _seconds_text(self.min_interval) or "",
        }
        if webhook.secret is not None:
            environment[SECRET_ENV] = webhook.secret.secret_full_arn or webhook.secret.secret_arn
            if webhook.secret_field:
                environment[SECRET_FIELD_ENV] = webhook.secret_field
        else:
            assert webhook.parameter_name is not None
            environment[PARAMETER_ENV] = webhook.parameter_name
        return environment


def _millis(value: Duration) -> float | None:
    if value.is_unresolved():
        return None
    return float(value.to_milliseconds())


def _seconds_text(value: Duration) -> str | None:
    """The duration in seconds as an environment variable holds it; for a token made with ``Duration.seconds``,
    the token itself (resolved at deploy); None for a token in another unit, which cannot be converted."""
    if not value.is_unresolved():
        return f"{value.to_milliseconds() / 1000:g}"
    try:
        return Token.as_string(value.to_seconds())
    except RuntimeError:  # jsii: a token duration converts only to the unit it was given in
        return None


__all__ = ["SlackErrorReporter", "SlackWebhook", "looks_like_webhook_url"]
