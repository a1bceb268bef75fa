"""What the tests' HTTP stand-ins share (an issuer, a backend): a JSON answer, and a server on 127.0.0.1 only."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def send_json(handler: BaseHTTPRequestHandler, status: int, document: Any) -> None:
    """Answer `document` as JSON with its length (keep-alive clients need it)."""
    payload = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def serve_on_loopback(handler: type[BaseHTTPRequestHandler], name: str) -> tuple[ThreadingHTTPServer, str]:
    """A threading server for `handler` on a free port of 127.0.0.1, serving in a daemon thread: (server, base URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    # shutdown() waits for serve_forever's next poll: at the default 0.5 s that was half a second per stop.
    threading.Thread(target=server.serve_forever, name=name, kwargs={"poll_interval": 0.01}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
