"""Where the webhook URL comes from: Secrets Manager or an SSM SecureString parameter, read once per container.

The URL is a credential: it is never logged, never put in an environment variable, never part of an exception
message this package raises. The environment names only where it lives:

- ``SLACK_WEBHOOK_SECRET_ARN``: a Secrets Manager secret whose value is the URL, or a JSON object holding it under
  ``SLACK_WEBHOOK_SECRET_FIELD`` (default: the first of ``webhook_url``, ``webhookUrl``, ``url``);
- ``SLACK_WEBHOOK_PARAMETER_NAME``: an SSM SecureString parameter whose value is the URL.

boto3 (shipped with the Lambda Python runtime) is imported on the first read only, so it costs nothing at init and
nothing to a function that never fails. Secrets Manager, SSM, their credentials, endpoints (VPC endpoints, FIPS)
and retries are boto3's, as for any other call of the function.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

LOGGER = logging.getLogger("slack_reporter")

SECRET_ENV = "SLACK_WEBHOOK_SECRET_ARN"
FIELD_ENV = "SLACK_WEBHOOK_SECRET_FIELD"
PARAMETER_ENV = "SLACK_WEBHOOK_PARAMETER_NAME"
JSON_FIELDS = ("webhook_url", "webhookUrl", "url")
RETRY_READ_AFTER_SECONDS = 60.0
"""After a failed read (no permission, placeholder value...), the next read is tried no sooner than this."""
LOOPBACK_HOSTS = ("localhost",)


class WebhookError(Exception):
    """The webhook could not be read or is not a usable URL. The message never contains the value."""


class WebhookSource:
    """Reads the webhook URL once and keeps it for the life of the container."""

    def __init__(
        self,
        *,
        secret_arn: str | None = None,
        secret_field: str | None = None,
        parameter_name: str | None = None,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_arn = secret_arn or None
        self.secret_field = secret_field or None
        self.parameter_name = parameter_name or None
        self.timeout = timeout
        self._clock = clock
        self._url: str | None = None
        self._failed_at: float | None = None
        self.reads = 0
        """Reads from Secrets Manager or SSM so far (one per container when all goes well)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, timeout: float = 2.0) -> WebhookSource:
        return cls(
            secret_arn=environ.get(SECRET_ENV),
            secret_field=environ.get(FIELD_ENV),
            parameter_name=environ.get(PARAMETER_ENV),
            timeout=timeout,
        )

    @property
    def where(self) -> str:
        if self.secret_arn:
            return f"secret {self.secret_arn}"
        if self.parameter_name:
            return f"SSM parameter {self.parameter_name}"
        return "nowhere"

    def url(self) -> str | None:
        """The webhook URL, or None (with a warning that says why and what to do) if it cannot be had now."""
        if self._url is not None:
            return self._url
        if self._failed_at is not None and self._clock() - self._failed_at < RETRY_READ_AFTER_SECONDS:
            return None
        try:
            self._url = self._read()
        except WebhookError as error:
            LOGGER.warning("slack_reporter: no Slack message: %s", error)
            self._failed_at = self._clock()
            return None
        return self._url

    def _read(self) -> str:
        if not self.secret_arn and not self.parameter_name:
            raise WebhookError(
                f"no webhook configured: set {SECRET_ENV} (a Secrets Manager secret) or {PARAMETER_ENV} (an SSM "
                "SecureString parameter); the SlackErrorReporter construct sets them"
            )
        self.reads += 1
        try:
            value = self._fetch()
        except WebhookError:
            raise
        except Exception as error:
            raise WebhookError(
                f"could not read the webhook from {self.where} ({type(error).__name__}: {error})"
            ) from None
        return webhook_url_from(value, field=self.secret_field, where=self.where)

    def _fetch(self) -> str:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise WebhookError(
                "boto3 is not importable: the Lambda Python runtimes ship it; elsewhere install boto3"
            ) from None
        config = Config(
            connect_timeout=self.timeout, read_timeout=self.timeout, retries={"max_attempts": 2, "mode": "standard"}
        )
        if self.secret_arn:
            region = _region_of(self.secret_arn)
            client = boto3.client("secretsmanager", region_name=region, config=config)
            answer = client.get_secret_value(SecretId=self.secret_arn)
            if "SecretString" not in answer:
                raise WebhookError(f"{self.where} holds binary data; store the webhook URL as a string")
            return str(answer["SecretString"])
        client = boto3.client("ssm", config=config)
        answer = client.get_parameter(Name=self.parameter_name, WithDecryption=True)
        return str(answer["Parameter"]["Value"])


def webhook_url_from(value: str, *, field: str | None = None, where: str = "the secret") -> str:
    """The URL in a secret's value: the value itself, or a field of a JSON object. Raises WebhookError (which never
    quotes the value) when it is not an https URL (http is accepted on loopback addresses only, for local tests)."""
    text = value.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise WebhookError(f"{where} looks like JSON but does not parse") from None
        names = (field,) if field else JSON_FIELDS
        found = next((document[name] for name in names if isinstance(document.get(name), str)), None)
        if found is None:
            raise WebhookError(f"{where} is a JSON object without a string field {' or '.join(names)}")
        text = found.strip()
    elif field:
        raise WebhookError(f"{where} is not a JSON object, so it has no field {field!r}")
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or not parts.hostname or parts.scheme not in ("https", "http"):
        raise WebhookError(
            f"{where} does not hold a webhook URL yet (a placeholder?): put the Slack incoming-webhook URL "
            "(https://hooks.slack.com/services/...) into it"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise WebhookError(
            f"{where} holds an http:// URL: Slack webhooks are https://, and errors must not travel in clear"
        )
    return text


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" and parts[3] else None
