"""`rapport serve`, and the port check and server start `rapport demo` shares.

The web app is named to uvicorn as a string ("surveys.web.app:create_app") so that the
CLI never imports surveys.web: the two faces stay independent (see the import contracts
in pyproject.toml).
"""

from __future__ import annotations

import errno
import socket

import click

from surveys.cli._run import run
from surveys.infra.errors import RapportError
from surveys.infra.settings import Settings, load_settings


class PortInUseError(RapportError):
    """The web server's port is taken."""


@click.command()
def serve() -> None:
    """Start the web server on RAPPORT_HOST:RAPPORT_PORT.

    Behind a reverse proxy that ends TLS (docs/deploy.md), set RAPPORT_TRUSTED_PROXIES to
    its address: only then are its X-Forwarded-For and X-Forwarded-Proto believed. On SQLite
    the server also runs the programme (RAPPORT_SERVE_RUNS_PROGRAMME); on PostgreSQL, start
    `rapport worker` processes beside it.
    """
    settings = load_settings()
    ensure_port_free(settings.host, settings.port)
    run(_nothing)
    serve_app(settings)


async def _nothing() -> None:
    """A step that only proves the database is reachable and migrated."""


def ensure_port_free(host: str, port: int) -> None:
    """Raise PortInUseError if nothing can listen on host:port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {port} on {host} is already in use; "
                    "stop the other server or set RAPPORT_PORT"
                ) from None
            raise PortInUseError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def serve_app(settings: Settings) -> None:
    """Run the app under uvicorn until interrupted (in RAPPORT_WORKERS processes).

    Behind a reverse proxy (docs/deploy.md), the client's address and scheme come from the
    proxy's X-Forwarded-For and X-Forwarded-Proto, believed only from its address
    (RAPPORT_TRUSTED_PROXIES).
    """
    import uvicorn  # lazy: only serving needs it; ~15 ms of every other command's start-up

    uvicorn.run(
        "surveys.web.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level="info",
        workers=settings.workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )
