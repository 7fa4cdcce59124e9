"""A TCP proxy to the test Redis that a test cuts off, stalls and restores.

Tests of what happens when Redis fails point the server at the proxy and act
on it, never on the Redis service, which other tests share.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import RedisTarget


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProxy:
    """Listens on a port of its own and passes bytes both ways to the Redis of `redis_url`;
    `url` is the same URL through the proxy."""

    def __init__(self, redis_url: str) -> None:
        target = make_url(redis_url)
        self.upstream = (target.host or "127.0.0.1", target.port or 6379)
        self.port = free_port()
        self.url = target.set(port=self.port).render_as_string(hide_password=False)
        self.flowing = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.flowing.set()
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    def stall(self, stalled: bool = True) -> None:
        """Connections are accepted and held, and no byte goes through: a Redis that hangs."""
        if stalled:
            self.flowing.clear()
        else:
            self.flowing.set()

    async def stop(self) -> None:
        """Nothing listens and every connection is cut: a Redis that is gone."""
        if self.server is None:
            return
        self.server.close()
        for writer in self.writers:
            writer.close()
        for pipe in self.pipes:
            pipe.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        await self.server.wait_closed()
        self.writers.clear()
        self.server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        self.writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            pipe = asyncio.ensure_future(self._pipe(source, sink))
            self.pipes.add(pipe)
            pipe.add_done_callback(self.pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                await self.flowing.wait()
                sink.write(data)
                await sink.drain()
        sink.close()


@pytest.fixture
async def proxy(redis_target: RedisTarget) -> AsyncIterator[RedisProxy]:
    proxy = RedisProxy(redis_target.url)
    await proxy.start()
    yield proxy
    await proxy.stop()
