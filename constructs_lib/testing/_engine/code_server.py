"""A function's code, served for real: the presigned ``https://`` URL that Lambda's GetFunction gives as
``Code.Location`` answers on loopback with the function's .zip file.

GetFunction's ``Code.Location`` is "a presigned URL that you can use to download the deployment package", valid
for up to 10 minutes (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html). moto gives an
``https://awslambda-<region>-tasks.s3...`` address that nothing answers; the kit gives one on a real HTTPS server
on 127.0.0.1, so code that downloads a function's code (an architecture switch: GetFunction, download,
UpdateFunctionCode) runs as it does on AWS.

The server's certificate comes from a throwaway certificate authority made when the kit starts (an EC P-256 key,
valid for a day, never written outside the kit's temporary folder). Handlers trust it through their environment:
the kit sets ``SSL_CERT_FILE`` among the runtime's variables to a bundle of that authority and the system's
default certificates, and ``trust_handler_bundles`` makes Python's ``ssl`` read it in handler threads, as OpenSSL
reads ``SSL_CERT_FILE`` from a process's environment (in the kit, a handler's environment is a per-thread layer
that OpenSSL cannot see). The test's own thread does not trust it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import os
import secrets
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

if TYPE_CHECKING:
    from constructs_lib.testing._engine.lambda_runtime import LayeredEnviron

HOST = "127.0.0.1"
EXPIRES_SECONDS = 600
"""GetFunction's code location is valid for up to 10 minutes."""
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
CERT_FILE_VARIABLE = "SSL_CERT_FILE"


@dataclass(frozen=True)
class KitCertificates:
    """A throwaway certificate authority and the code server's certificate (for 127.0.0.1 and localhost), as files
    in ``folder``: ``bundle`` (the authority, then the system's default certificates), ``certificate``, ``key``."""

    folder: Path
    authority: Path
    bundle: Path
    certificate: Path
    key: Path

    @classmethod
    def make(cls) -> KitCertificates:
        # cryptography comes with moto (a requirement of moto's own).
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = datetime.datetime.now(datetime.UTC)
        start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)
        authority_key = ec.generate_private_key(ec.SECP256R1())
        authority_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "constructs-lib LocalKit throwaway CA")])
        authority = (
            x509.CertificateBuilder()
            .subject_name(authority_name)
            .issuer_name(authority_name)
            .public_key(authority_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(authority_key.public_key()), critical=False)
            .sign(authority_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
            .issuer_name(authority_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()), critical=False
            )
            .sign(authority_key, hashes.SHA256())
        )
        folder = Path(tempfile.mkdtemp(prefix="localkit-tls-"))
        authority_pem = authority.public_bytes(serialization.Encoding.PEM)
        paths = cls(
            folder=folder,
            authority=folder / "kit-ca.pem",
            bundle=folder / "ca-bundle.pem",
            certificate=folder / "code-server.pem",
            key=folder / "code-server-key.pem",
        )
        paths.authority.write_bytes(authority_pem)
        # The bundle a handler's SSL_CERT_FILE names: what it trusted before, and the kit's authority.
        default = ssl.get_default_verify_paths().cafile
        system = Path(default).read_bytes() if default and Path(default).is_file() else b""
        paths.bundle.write_bytes(authority_pem + b"\n" + system)
        paths.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
        paths.key.write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        os.chmod(paths.key, 0o600)
        return paths


@dataclass(frozen=True)
class CodeDownload:
    """One request the code server answered."""

    path: str
    status: int
    size: int


@dataclass
class CodeServer:
    """An HTTPS server on loopback that serves code .zip files at presigned, expiring paths."""

    certificates: KitCertificates
    account: str
    clock: Callable[[], float] = time.time
    """Seconds since the epoch; a test may give another clock to see a URL expire."""
    downloads: list[CodeDownload] = field(default_factory=list)
    _objects: dict[str, bytes] = field(default_factory=dict)
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def location(self, function_name: str, code: bytes) -> str:
        """A presigned URL of ``code`` (a function's .zip file), valid for 10 minutes from now, as Lambda's
        ``https://awslambda-<region>-tasks.s3...amazonaws.com/snapshots/<account>/<function>-<id>?...``."""
        digest = hashlib.sha256(code).hexdigest()
        path = f"/snapshots/{self.account}/{quote(function_name, safe='')}-{digest[:32]}"
        with self._lock:
            self._objects[path] = code
        port = self._start()
        date = time.strftime(DATE_FORMAT, time.gmtime(self.clock()))
        query = (
            f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-SignedHeaders=host"
            f"&X-Amz-Expires={EXPIRES_SECONDS}&X-Amz-Signature={self._signature(path, date)}"
        )
        return f"https://{HOST}:{port}{path}?{query}"

    def served(self) -> list[CodeDownload]:
        """The requests answered so far, in order."""
        with self._lock:
            return list(self.downloads)

    def _signature(self, path: str, date: str) -> str:
        return hmac.new(self._secret, f"{path}\n{date}".encode(), hashlib.sha256).hexdigest()

    def answer(self, target: str) -> tuple[int, bytes, str]:
        """(status, body, content type) for a GET of ``target`` (path and query), as S3 answers a presigned GET."""
        parts = urlsplit(target)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        date, signature = query.get("X-Amz-Date", ""), query.get("X-Amz-Signature", "")
        if not hmac.compare_digest(self._signature(parts.path, date), signature):
            return _error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
        try:
            signed = datetime.datetime.strptime(date, DATE_FORMAT).replace(tzinfo=datetime.UTC).timestamp()
        except ValueError:
            return _error(403, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 format.")
        if self.clock() > signed + int(query.get("X-Amz-Expires", "0")):
            return _error(403, "AccessDenied", "Request has expired")
        with self._lock:
            body = self._objects.get(parts.path)
        if body is None:
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        return 200, body, "application/zip"

    def _start(self) -> int:
        """Start the server on first use (most kits never serve code); its port."""
        with self._lock:
            if self._server is None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(self.certificates.certificate, self.certificates.key)
                server = _Server((HOST, 0), _Handler)
                server.owner = self
                server.socket = context.wrap_socket(server.socket, server_side=True)
                self._server = server
                # The first GetFunction usually comes from a handler: the server is the kit's, not the handler's
                # (lambda_runtime's thread inheritance skips threads whose target is this module's).
                self._thread = threading.Thread(target=_serve, args=(server,), name="localkit-code-server", daemon=True)
                self._thread.start()
            return int(self._server.server_address[1])

    def close(self) -> None:
        with self._lock:
            server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)


def _serve(server: ThreadingHTTPServer) -> None:
    # shutdown() waits for the loop's next poll: at the default 0.5 s, every kit that served code closed that late.
    server.serve_forever(poll_interval=0.02)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: CodeServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        status, body, content_type = owner.answer(self.path)
        with owner._lock:
            owner.downloads.append(CodeDownload(urlsplit(self.path).path, status, len(body)))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 200:
            digest = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
            self.send_header("Content-MD5", digest)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # the kit's tests read `downloads`, not a log
        return


def _error(status: int, code: str, message: str) -> tuple[int, bytes, str]:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return status, body.encode(), "application/xml"


def trust_handler_bundles(environ: LayeredEnviron) -> Callable[[], None]:
    """Make ``SSLContext.load_default_certs`` (what ``ssl.create_default_context``, urllib and http.client use)
    also load the CA file a handler's environment names in ``SSL_CERT_FILE``; returns the undo.

    OpenSSL reads ``SSL_CERT_FILE`` from the process environment, which a handler's per-thread environment in the
    kit is not: without this a handler's own variable would be ignored. Threads outside handlers are unchanged."""
    original = ssl.SSLContext.load_default_certs

    def load_default_certs(self: ssl.SSLContext, purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH) -> None:
        original(self, purpose)
        layer = environ.current_layer()
        named = layer.get(CERT_FILE_VARIABLE) if layer is not None else None
        if named and named != environ.base.get(CERT_FILE_VARIABLE) and purpose == ssl.Purpose.SERVER_AUTH:
            self.load_verify_locations(cafile=named)

    ssl.SSLContext.load_default_certs = load_default_certs  # type: ignore[method-assign]

    def undo() -> None:
        ssl.SSLContext.load_default_certs = original  # type: ignore[method-assign]

    return undo
