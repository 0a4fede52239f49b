"""The boto3 clients the kit makes its own calls with, shared by the kits of a process.

Making a client (a botocore session, then the service's endpoint rules and event hooks) costs 3-6 ms; a kit makes
about eight to stand a stack up, half of its stand-up. A client holds nothing of a kit's: moto answers it through
hooks on botocore's classes, the account is read from the environment at each request (``MOTO_ACCOUNT_ID``), and the
kit's principal from a context variable. What it does hold is what botocore read from the environment when it was
made (credentials, profile, endpoint, retry settings): that is part of the key, so a kit run with other values gets
a client of its own.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_READ_AT_CREATION = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CA_BUNDLE",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)
"""The variables botocore reads when it makes a client (besides ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_*``)."""

_CLIENTS: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


def shared_client(service: str, region: str, *, single_attempt: bool = False) -> Any:
    """A boto3 client of ``service`` in ``region`` (``single_attempt``: botocore retries nothing), made once per
    process for each environment botocore would read differently."""
    environ = os.environ
    endpoints = tuple(sorted((k, v) for k, v in environ.items() if k.startswith("AWS_ENDPOINT_URL")))
    key = (service, region, single_attempt, tuple(environ.get(name) for name in _READ_AT_CREATION), endpoints)
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"total_max_attempts": 1}) if single_attempt else None
            session = boto3.session.Session(region_name=region)
            client = _CLIENTS[key] = session.client(service, region_name=region, config=config)
        return client
