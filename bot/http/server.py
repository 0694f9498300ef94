"""uvicorn inside the bot's event loop (`Server(config).serve()` as a task).

The socket is bound here, before uvicorn starts, so a taken port is a clear
configuration error at start (uvicorn itself would `sys.exit`), and `PORT=0`
gives a free port whose number is known. uvicorn's own signal handlers are
left out: SIGTERM belongs to the bot, which stops the server in order
(requests in flight finish, then the database closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from bot.config import ConfigError

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 30  # seconds requests in flight get to finish at a stop


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    def __init__(self, app: Any, *, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"PORT: cannot listen on {self.host}:{self.port} ({exc.strerror or exc})") from None
        sock.listen(2048)
        sock.setblocking(False)
        return sock

    async def start(self) -> None:
        self._socket = self._bind()
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_keep_alive=5,
            timeout_graceful_shutdown=SHUTDOWN_GRACE,
            server_header=False,
            proxy_headers=False,
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="http")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # surfaces the error
                raise RuntimeError("the HTTP server stopped at start")
            await asyncio.sleep(0.01)
        log.info("HTTP on %s", self.address)

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to SHUTDOWN_GRACE s)."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            await self._task
        self._server = None
