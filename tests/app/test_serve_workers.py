"""`kefu serve --workers N`: each worker listens on a socket of its own (SO_REUSEPORT)."""

from __future__ import annotations

import socket
import sys

import pytest

from kefu.app.cli import listening_sockets

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="SO_REUSEPORT balances connections on Linux only")


def test_the_kernel_spreads_connections_over_the_workers_sockets() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 2, backlog=128)
    clients: list[socket.socket] = []
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1  # one port for all: port 0 picked it once
        port = ports.pop()
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            sock.settimeout(0.5)
        # 64 connections in a burst, as 50 keep-alive clients open theirs at once
        for _ in range(64):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        accepted = []
        for sock in sockets:
            count = 0
            while True:
                try:
                    conn, _ = sock.accept()
                except TimeoutError:
                    break
                conn.close()
                count += 1
            accepted.append(count)
        # every connection went to one of the sockets, and both got some (the kernel
        # hashes each connection to a socket: all 64 on one has a chance of 2**-63)
        assert sum(accepted) == 64
        assert min(accepted) > 0
    finally:
        for sock in [*sockets, *clients]:
            sock.close()


def test_a_port_taken_by_a_plain_socket_is_refused() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        with pytest.raises(OSError):
            listening_sockets("127.0.0.1", taken.getsockname()[1], 2)
    finally:
        taken.close()
