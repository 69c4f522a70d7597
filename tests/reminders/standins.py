"""Stand-ins on 127.0.0.1 for a browser's push service and an SMS provider's gateway.

The push service checks what a real one would (the VAPID JWT against the server's public
key: signature, audience, expiry, subject) and, playing the browser, decrypts the
aes128gcm body with the subscription's private key and auth secret.
"""

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid.jwt import decode as decode_jwt

from app.reminders.keys import b64url


@dataclass
class Received:
    path: str
    headers: dict
    claims: dict = field(default_factory=dict)
    payload: dict = field(default_factory=dict)
    body: dict = field(default_factory=dict)


class _StandIn:
    """An HTTP server in a thread that records POSTs and answers with queued statuses."""

    def __init__(self):
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.statuses: dict[str, list[int]] = {}  # path -> statuses to answer, then 201
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    stand_in.handle(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                except Exception as error:  # noqa: BLE001 - reported to the test instead
                    with stand_in._lock:
                        stand_in.errors.append(f"{self.path}: {error!r}")
                    self.send_response(400)
                    self.end_headers()
                    return
                with stand_in._lock:
                    queue = stand_in.statuses.get(self.path, [])
                    status = queue.pop(0) if queue else 201
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "7")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def handle(self, path: str, headers: dict, body: bytes) -> None:
        raise NotImplementedError

    def record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class BrowserSubscription:
    """What `PushManager.subscribe` makes in a browser: an endpoint, a P-256 key, a secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def path(self) -> str:
        return "/" + self.endpoint.split("/", 3)[3]

    def as_json(self) -> dict:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


class PushServiceStandIn(_StandIn):
    def __init__(self, *, vapid_public_key: str, subject: str):
        self.vapid_public_key = vapid_public_key
        self.subject = subject
        self.browsers: dict[str, BrowserSubscription] = {}
        super().__init__()

    def subscribe(self) -> BrowserSubscription:
        browser = BrowserSubscription(
            endpoint=f"{self.origin}/push/{secrets.token_urlsafe(12)}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=os.urandom(16),
        )
        self.browsers[browser.path] = browser
        return browser

    def handle(self, path: str, headers: dict, body: bytes) -> None:
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme == "vapid", scheme
        parts = dict(part.split("=", 1) for part in params.split(","))
        assert parts["k"] == self.vapid_public_key, "signed with another key"
        claims = decode_jwt(parts["t"], self.vapid_public_key)  # raises on a bad signature
        assert claims["aud"] == self.origin, claims["aud"]
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims["exp"]
        assert claims["sub"] == self.subject, claims["sub"]
        assert headers["content-encoding"] == "aes128gcm"
        browser = self.browsers[path]
        plain = http_ece.decrypt(
            body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
        )
        self.record(Received(path, headers, claims, json.loads(plain)))

    def payloads(self, browser: BrowserSubscription | None = None) -> list[dict]:
        return [r.payload for r in self.received if browser is None or r.path == browser.path]


class SmsGatewayStandIn(_StandIn):
    def handle(self, path: str, headers: dict, body: bytes) -> None:
        self.record(Received(path, headers, body=json.loads(body)))

    @property
    def url(self) -> str:
        return f"{self.origin}/sms/send"
