"""Serve the HTTP API on the worker's event loop (the embedded stack runs
everything in one process; production may run `tindaklanjut api` apart)."""

from __future__ import annotations

import contextlib

import faust
import structlog
import uvicorn

from tindaklanjut.api.app import create_api
from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings

log = structlog.get_logger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """The worker owns the process signals; uvicorn must not take them."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def server(settings: Settings, container: Container) -> uvicorn.Server:
    config = uvicorn.Config(create_api(container), host=settings.api_host, port=settings.api_port,
                            log_level="warning", access_log=False, lifespan="off")
    return _EmbeddedServer(config)


def register(app: faust.App, settings: Settings, container: Container) -> None:
    @app.task
    async def http_api() -> None:
        log.info("api.listening", url=f"http://{settings.api_host}:{settings.api_port}", docs="/docs")
        await server(settings, container).serve()


def register_health(app: faust.App, settings: Settings, container: Container) -> None:
    """For a process without the API role: only /healthz, /readyz and /metrics, on the health port."""
    from tindaklanjut.api.app import create_health_api

    @app.task
    async def health_api() -> None:
        config = uvicorn.Config(create_health_api(container), host=settings.api_host, port=settings.health_port,
                                log_level="warning", access_log=False, lifespan="off")
        log.info("health.listening", url=f"http://{settings.api_host}:{settings.health_port}")
        await _EmbeddedServer(config).serve()
