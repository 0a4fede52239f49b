"""The kit's code server (GetFunction's Code.Location, served over HTTPS on loopback) and its speed-model option.

The server is run for real: a TLS handshake with the throwaway authority, GETs of presigned paths."""

from __future__ import annotations

import hashlib
import re
import shutil
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from constructs_lib.testing import KitError
from constructs_lib.testing._engine.code_server import EXPIRES_SECONDS, CodeServer, KitCertificates
from constructs_lib.testing.kit import checked_duration_factors

PACKAGE = b"PK\x05\x06" + b"\x00" * 18  # an empty .zip file


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def certificates() -> Iterator[KitCertificates]:
    made = KitCertificates.make()
    yield made
    shutil.rmtree(made.folder, ignore_errors=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(certificates: KitCertificates, clock: Clock) -> Iterator[CodeServer]:
    running = CodeServer(certificates, account="123456789012", clock=clock)
    yield running
    running.close()


def get(url: str, certificates: KitCertificates) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(certificates.authority))
    try:
        with urllib.request.urlopen(url, context=context, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_location_serves_the_package_over_verified_https(server: CodeServer, certificates: KitCertificates) -> None:
    url = server.location("orders", PACKAGE)

    status, body = get(url, certificates)

    assert (status, body) == (200, PACKAGE)
    assert url.startswith("https://127.0.0.1:")
    assert f"/snapshots/123456789012/orders-{hashlib.sha256(PACKAGE).hexdigest()[:32]}?" in url
    assert [(d.status, d.size) for d in server.served()] == [(200, len(PACKAGE))]


def test_a_location_expires_after_ten_minutes(server: CodeServer, certificates: KitCertificates, clock: Clock) -> None:
    url = server.location("orders", PACKAGE)

    clock.now += EXPIRES_SECONDS
    still = get(url, certificates)
    clock.now += 1
    expired = get(url, certificates)

    assert still == (200, PACKAGE)
    assert expired[0] == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired[1]


def test_a_path_or_signature_that_was_not_signed_is_refused(server: CodeServer, certificates: KitCertificates) -> None:
    url = server.location("orders", PACKAGE)

    other_path = get(re.sub(r"orders-[0-9a-f]+", "payments-0", url), certificates)
    no_signature = get(url.split("&X-Amz-Signature=")[0], certificates)

    assert other_path[0] == no_signature[0] == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in other_path[1]


def test_the_certificate_is_not_trusted_without_the_kits_authority(server: CodeServer) -> None:
    url = server.location("orders", PACKAGE)

    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(url, context=ssl.create_default_context(), timeout=30)

    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)


def test_the_bundle_keeps_the_systems_authorities(certificates: KitCertificates) -> None:
    bundle = certificates.bundle.read_text()
    default = ssl.get_default_verify_paths().cafile

    assert bundle.startswith(certificates.authority.read_text())
    system = Path(default).read_text() if default and Path(default).is_file() else ""
    assert bundle.count("BEGIN CERTIFICATE") == 1 + system.count("BEGIN CERTIFICATE")


def test_duration_factors_are_taken_as_floats() -> None:
    assert checked_duration_factors({"arm64": 1, "x86_64": 1.25}) == {"arm64": 1.0, "x86_64": 1.25}


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({"graviton": 0.8}, "'graviton' is not a Lambda architecture (x86_64 or arm64)"),
        ({"arm64": 0}, "arm64: 0 must be a number above 0"),
        ({"arm64": float("nan")}, "arm64: nan must be a number above 0"),
        ({"arm64": True}, "arm64: True must be a number above 0"),
    ],
)
def test_duration_factors_are_checked(factors: dict[str, float], message: str) -> None:
    with pytest.raises(KitError, match=re.escape(message)):
        checked_duration_factors(factors)
