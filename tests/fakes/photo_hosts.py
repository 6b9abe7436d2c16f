"""Real HTTP servers on loopback for photo-download tests.

`PhotoHost` plays a seller's photo host (tests allow its address through the allow-list
setting, as an operator would allow a private CDN). `Bystander` plays something on our own
network that a hostile URL aims at; it counts every connection it accepts, so a test can
assert that nothing reached it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    stopping = False

    def verify_request(self, request: object, client_address: object) -> bool:
        self.connections += 1
        return True


class Bystander:
    """Answers 200 to anything and counts accepted connections."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "6")
                self.end_headers()
                self.wfile.write(b"inside")

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server((host, port), Handler)
        self.host, self.port = host, self.server.server_address[1]

    @property
    def connections(self) -> int:
        return self.server.connections


class PhotoHost:
    """Paths: /photo (the bytes given), /redirect?to=URL (302), /loop (302 to itself),
    /trickle (1 byte per 0.2 s), /silent (never answers), /status/N."""

    def __init__(self, photo: bytes, host: str = "127.0.0.2") -> None:
        server_ref: list[_Server] = []
        self.requests: list[tuple[str, str]] = []  # (path, Host header)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                outer.requests.append((self.path, self.headers.get("Host", "")))
                if parts.path == "/photo":
                    self._answer(200, photo)
                elif parts.path == "/redirect":
                    self._redirect(parse_qs(parts.query)["to"][0])
                elif parts.path == "/loop":
                    self._redirect("/loop")
                elif parts.path == "/trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    try:
                        while not server_ref[0].stopping:
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.2)
                    except OSError:  # the client hung up at its deadline, as it should
                        return
                elif parts.path == "/silent":
                    while not server_ref[0].stopping:
                        time.sleep(0.1)
                elif parts.path.startswith("/status/"):
                    self._answer(int(parts.path.rsplit("/", 1)[1]), b"")
                else:
                    self._answer(404, b"")

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _redirect(self, location: str) -> None:
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        outer = self
        self.server = _Server((host, 0), Handler)
        server_ref.append(self.server)
        self.host, self.port = host, self.server.server_address[1]
        self.base = f"http://{host}:{self.port}"

    @property
    def connections(self) -> int:
        return self.server.connections


@contextmanager
def serving(*servers: Bystander | PhotoHost) -> Iterator[None]:
    threads = [threading.Thread(target=s.server.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for server in servers:
            server.server.stopping = True
            server.server.shutdown()
            server.server.server_close()
