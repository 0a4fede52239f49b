"""The boto3 clients the kit makes its own calls with, shared by the kits of a process.

Making a client (a botocore session, then the service's endpoint rules and event hooks) costs 3-6 ms, and a kit
makes about eight to stand a stack up: half of a stand-up once the definitions' parse is shared too. A client holds
nothing of a kit's: moto answers it through hooks on botocore's classes, the account is read from the environment at
each request (``MOTO_ACCOUNT_ID``), and the kit's principal from a context variable. What it does hold is what
botocore read from the environment when it was made (credentials, profile, endpoint, retry and checksum settings):
every ``AWS_*`` variable is part of the key, so a kit run with other values gets a client of its own. The files they
name (``AWS_CONFIG_FILE``) are read when the client is made, as by any boto3 client.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_NOT_READ_BY_BOTOCORE = ("AWS_LAMBDA_", "AWS_EXECUTION_ENV")
"""The Lambda runtime's own variables, which a handler's environment adds: left out of the key, so that the kit's
lookups from a handler's thread share the clients of the kit's other calls."""

_CLIENTS: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


def shared_client(service: str, region: str, *, single_attempt: bool = False) -> Any:
    """A boto3 client of ``service`` in ``region`` (``single_attempt``: botocore retries nothing), made once per
    process for each environment botocore would read differently."""
    read = sorted(
        (k, v) for k, v in os.environ.items() if k.startswith("AWS_") and not k.startswith(_NOT_READ_BY_BOTOCORE)
    )
    key = (service, region, single_attempt, tuple(read))
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"total_max_attempts": 1}) if single_attempt else None
            session = boto3.session.Session(region_name=region)
            client = _CLIENTS[key] = session.client(service, region_name=region, config=config)
        return client
