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
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if "Content-Length" not in answer.headers:  # an answer may announce more than it sends
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
