"""Running the server: TLS setup, binding, and the startup banner."""
from __future__ import annotations

import errno
import ssl

from aiohttp import web

from .app import create_app
from .kernel.clock import Clock
from .kernel.config import Settings
from .kernel.tls import server_ssl_context

SHUTDOWN_TIMEOUT_SECONDS = 1.0  # at a stop, requests still open after the features' shutdown get this long


class PortInUse(OSError):
    """The port is taken (by another bwlive serve, or anything else)."""


async def start_server(settings: Settings, clock: Clock | None = None) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (call ``cleanup()`` to stop) and the bound port.
    A taken port is a ``PortInUse`` with a sentence saying what to do, after the app that
    had started is stopped again."""
    app = create_app(settings, clock)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
    await runner.setup()
    try:
        context: ssl.SSLContext | None = server_ssl_context(settings) if settings.use_tls else None
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=context)
        await site.start()
    except BaseException as exc:
        await runner.cleanup()
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {settings.port} is in use (another bwlive serve?): "
                            "choose another with --port") from None
        raise
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings.node_url = settings.node_url or settings.base_url(port)  # what this node's streams announce
    return runner, port
