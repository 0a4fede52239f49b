"""The kit's own boto3 clients, shared by the kits of a process (``clients.shared_client``): one per service, region,
retry setting and environment botocore reads when it makes a client."""

from __future__ import annotations

import pytest

from constructs_lib.testing._engine import clients
from constructs_lib.testing._engine.clients import shared_client


@pytest.fixture(autouse=True)
def own_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients of these tests' own: made outside a kit, they would be the kits' with the same environment."""
    monkeypatch.setattr(clients, "_CLIENTS", {})


def test_the_same_environment_gets_the_same_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FOOBARKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "FOOBARSECRET")
    first = shared_client("sqs", "eu-west-1")

    assert shared_client("sqs", "eu-west-1") is first
    assert shared_client("sqs", "eu-west-2") is not first
    assert shared_client("sns", "eu-west-1") is not first
    single = shared_client("sqs", "eu-west-1", single_attempt=True)
    assert single is not first
    assert single.meta.config.retries["total_max_attempts"] == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AWS_ACCESS_KEY_ID", "OTHERKEY"),  # credentials are read when the client is made
        ("AWS_ENDPOINT_URL_SQS", "http://localhost:4566"),  # so is the endpoint
        ("AWS_MAX_ATTEMPTS", "7"),  # and the retry settings
        ("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required"),  # and any other AWS_ variable
    ],
)
def test_what_botocore_read_when_it_made_a_client_gets_its_own(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FOOBARKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "FOOBARSECRET")
    first = shared_client("sqs", "eu-west-1")
    monkeypatch.setenv(variable, value)
    other = shared_client("sqs", "eu-west-1")

    assert other is not first
    if variable == "AWS_ACCESS_KEY_ID":
        assert other._request_signer._credentials.access_key == "OTHERKEY"
    elif variable == "AWS_ENDPOINT_URL_SQS":
        assert other.meta.endpoint_url == value
    elif variable == "AWS_MAX_ATTEMPTS":
        assert other.meta.config.retries["total_max_attempts"] == 7
    else:
        assert other.meta.config.request_checksum_calculation == "when_required"


def test_the_lambda_runtimes_own_variables_share_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler's environment adds the runtime's variables, which botocore never reads: the kit's lookups from a
    handler's thread use the same client."""
    first = shared_client("sqs", "eu-west-1")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.14")

    assert shared_client("sqs", "eu-west-1") is first
