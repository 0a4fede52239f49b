"""A real HTTP server on loopback that plays a Slack incoming webhook, for the Slack reporter's tests.

with SlackWebhookServer() as slack:
    slack.answer(429, headers={"Retry-After": "1"})   # the next request gets this; later ones get 200 "ok"
    ... post to slack.url ...
    assert slack.posts[0].json == {...}
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

WEBHOOK_PATH = "/services/T0LOCAL/B0LOCAL/local-webhook-secret-token"


@dataclass(frozen=True)
class Post:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    """``time.monotonic()`` when the request arrived."""

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class SlackWebhookServer:
    """Answers 200 ``ok`` (as Slack does) unless told otherwise with ``answer`` or ``hang``."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._answers: deque[_Answer] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with server._lock:
                    server.posts.append(
                        Post("POST", self.path, dict(self.headers.items()), body, received_at=time.monotonic())
                    )
                    answer = server._answers.popleft() if server._answers else _Answer()
                if answer.hang:
                    server._release.wait(timeout=30)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows what matters
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="slack-webhook-server", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{WEBHOOK_PATH}"

    def answer(self, status: int, *, body: bytes | str = b"", headers: dict[str, str] | None = None) -> None:
        """The next request (in order of arrival) gets this answer."""
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._answers.append(_Answer(status=status, body=data, headers=dict(headers or {})))

    def hang(self) -> None:
        """The next request is read and never answered (until the server stops)."""
        with self._lock:
            self._answers.append(_Answer(hang=True))

    def __enter__(self) -> SlackWebhookServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
