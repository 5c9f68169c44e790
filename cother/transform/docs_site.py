"""`make docs`: the dbt docs site and the Great Expectations data docs, served on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from cother.transform.dbt import generate_docs
from cother_core.settings import get_settings


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the stdlib's name)
        pass


@contextmanager
def served(dbt_docs_port: int, data_docs_port: int) -> Iterator[tuple[str, str]]:
    """The dbt docs and the data docs on these ports (0: any free one), in background threads, while
    the block runs; yields their two addresses."""
    settings = get_settings()
    servers = []
    for port, folder in ((dbt_docs_port, settings.dbt_target_dir), (data_docs_port, settings.data_docs_dir)):
        folder.mkdir(parents=True, exist_ok=True)
        server = ThreadingHTTPServer(("127.0.0.1", port), partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield tuple(f"http://127.0.0.1:{server.server_port}/index.html" for server in servers)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def serve(port: int) -> None:
    """Generate the dbt docs, then serve them on `port` and the data docs on `port + 1` until interrupted."""
    generate_docs()
    with served(port, port + 1) as (dbt_docs, data_docs):
        print(f"dbt docs:  {dbt_docs}")
        print(f"data docs: {data_docs} (built by each validation)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
