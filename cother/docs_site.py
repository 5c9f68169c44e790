"""`make docs`: the dbt docs site and the Great Expectations data docs, served on loopback."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cother.settings import get_settings
from cother.transform import generate_docs


def _server(folder: Path, port: int) -> ThreadingHTTPServer:
    folder.mkdir(parents=True, exist_ok=True)
    return ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(folder)))


def serve(port: int) -> None:
    """dbt docs on `port`, data docs on `port + 1`, until interrupted."""
    settings = get_settings()
    generate_docs()
    dbt_docs = _server(settings.dbt_target_dir, port)
    data_docs = _server(settings.data_docs_dir, port + 1)
    threading.Thread(target=data_docs.serve_forever, daemon=True).start()
    print(f"dbt docs:  http://127.0.0.1:{port}/index.html")
    print(f"data docs: http://127.0.0.1:{port + 1}/index.html (built by each validation)")
    try:
        dbt_docs.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        dbt_docs.server_close()
        data_docs.shutdown()
