"""uvicorn configuration for ``omnicrm serve`` (importable by spawned worker processes)."""

from __future__ import annotations

import socket

import uvicorn


class TcpConfig(uvicorn.Config):
    """uvicorn's config, binding the shared socket of several workers as a TCP socket.

    uvicorn creates that socket with ``socket.socket(family)`` (protocol 0), and asyncio only
    sets ``TCP_NODELAY`` on connections accepted from a socket whose protocol is
    ``IPPROTO_TCP``; so with ``--workers > 1`` every response waited for Nagle's algorithm and
    the client's delayed ACK: about 40 ms per request on a keep-alive connection (measured:
    1.2 ms per request with one worker, 44 ms with two, for an empty ASGI app).
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto:
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp
