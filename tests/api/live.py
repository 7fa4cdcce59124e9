"""Serve an app with uvicorn on a free loopback port, in a thread, for tests that need sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@contextmanager
def serve(app: ASGIApp, *, lifespan: str = "on", **config: Any) -> Iterator[str]:
    """The app's base URL while the block runs; the server stops when it ends.

    `config` goes to uvicorn.Config as it is (forwarded_allow_ips=..., say).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, lifespan=lifespan, ws="none", loop="asyncio", log_level="warning", **config
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not server.started:
                assert thread.is_alive(), "uvicorn stopped before it started"
                assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)
    assert not thread.is_alive(), "uvicorn did not stop within 10 s"
