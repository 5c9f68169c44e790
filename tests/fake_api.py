"""A loopback HTTP server standing in for the public APIs: scripted answers per path, requests recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# The paths each live source is served on by the stand-in (conftest's `api` fixture points them here).
OPEN_METEO, KMA, KDCA, WHO = "/v1/archive", "/kma/getWthrDataList", "/kdca/callCovid04Api", "/who/daily.csv"
WHO_WEEKLY = "/who/weekly.csv"


@dataclass
class Answer:
    body: str | bytes = ""
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0  # answer late, to provoke a read timeout
    trickle_s: float = 0.0  # send the answer, status line to last byte, a byte at a time this far apart
    announce: bool = True  # send its Content-Length (False: the body ends where the connection closes)


class Trickle:
    """A socket's writer that sends one byte at a time, `pause_s` apart."""

    def __init__(self, out, pause_s: float) -> None:
        self.out, self.pause_s = out, pause_s

    def write(self, data: bytes) -> int:
        for byte in data:
            time.sleep(self.pause_s)
            self.out.write(bytes([byte]))
        return len(data)

    def __getattr__(self, name: str):
        return getattr(self.out, name)


class FakeApi:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Answer]] = {}
        self.responders: dict[str, Callable[[dict], Answer]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.posts: list[tuple[str, bytes]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- the http.server API
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                api.requests.append((url.path, params))
                if url.path in api.responders:
                    answer = api.responders[url.path](params)
                else:
                    script = api.scripts.get(url.path) or [Answer("not found", 404)]
                    answer = script.pop(0) if len(script) > 1 else script[0]
                time.sleep(answer.delay_s)
                body = answer.body.encode() if isinstance(answer.body, str) else answer.body
                if answer.trickle_s:
                    self.wfile = Trickle(self.wfile, answer.trickle_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if answer.announce and "Content-Length" not in answer.headers:  # it may announce more than it sends
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that was the point

            def do_POST(self) -> None:  # noqa: N802 -- the http.server API
                api.posts.append((self.path, self.rfile.read(int(self.headers.get("Content-Length", 0)))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def script(self, path: str, *answers: Answer) -> None:
        """Answer requests to `path` with these, in order; the last one repeats."""
        self.scripts[path] = list(answers)

    def respond(self, path: str, responder: Callable[[dict], Answer]) -> None:
        """Answer each request to `path` with what `responder` makes of its query (called in the
        server's thread for that request)."""
        self.responders[path] = responder

    def paths(self, path: str) -> list[dict]:
        return [params for requested, params in self.requests if requested == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
