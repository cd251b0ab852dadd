"""A stand-in backend for the redeploy example: JSON on /api/*, 404 elsewhere.

Listens on PORT (default 8000) on every address. Each answer names the
container (its hostname) and when this process started, so a redeploy shows.
"""

import json
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Handler(BaseHTTPRequestHandler):
    """GET /api/... -> 200 JSON; anything else -> 404."""

    def do_GET(self) -> None:
        if not self.path.startswith("/api/"):
            self.send_error(404)
            return
        body = json.dumps(
            {"path": self.path, "served_by": socket.gethostname(), "started": STARTED}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
