"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 that verifies every delivery with the
`standardwebhooks` library (independent of the code that signs) and records what it got."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    verified_with: list[str]  # the secrets whose signature the library accepted

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """`answer(n)` gives the status of the n-th request (0-based); 200 by default."""

    secrets: list[str] = field(default_factory=list)
    answer: Callable[[int], int] = lambda n: 200
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    requests: int = 0

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with lock:
                    n = receiver.requests
                    receiver.requests += 1
                verified = []
                for secret in receiver.secrets:
                    try:
                        Webhook(secret).verify(body, headers)
                        verified.append(secret)
                    except WebhookVerificationError:
                        pass
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                status = receiver.answer(n)
                with lock:
                    receiver.received.append(Received(headers, body, verified))
                self.send_response(status)
                reply = b'{"ok": true}' if status < 300 else b"receiver says no"
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.payload["type"] == event_type]
