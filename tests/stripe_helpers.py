"""Helpers for tests that talk to Stripe: a local Stripe server, a recording HTTP client,
and signed webhook deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

import stripe

WEBHOOK_SECRET = "whsec_test_secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_localstripe() -> tuple[subprocess.Popen, str]:
    """Start localstripe on a free loopback port; returns the process and its base URL."""
    port = free_port()
    executable = Path(sys.executable).parent / "localstripe"
    process = subprocess.Popen(
        [str(executable), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("localstripe did not start within 20 seconds")


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send: t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_id: str, event_type: str, obj: dict, created: int | None = None) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created or int(time.time()),
            "data": {"object": obj},
        }
    )


class RecordingHTTPClient(stripe.HTTPClient):
    """The SDK's HTTP boundary, for what localstripe lacks (Checkout and Billing Portal sessions):
    records each request and answers with a canned JSON body."""

    name = "recording"

    def __init__(self, responses: dict[str, dict]):
        super().__init__()
        self.responses = responses
        self.requests: list[dict] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = url.split("://", 1)[-1].split("/", 1)[-1]
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        self.requests.append(
            {"method": method, "path": "/" + path, "headers": dict(headers or {}), "body": body}
        )
        for suffix, response in self.responses.items():
            if ("/" + path).startswith(suffix):
                return json.dumps(response), 200, {}
        return json.dumps({"error": {"message": "not found", "type": "invalid_request_error"}}), 404, {}

    def close(self):
        pass

    @staticmethod
    def form(body: str) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(body).items()}
