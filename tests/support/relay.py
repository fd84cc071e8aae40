"""Copy bytes between two sockets until either side closes: used by the proxy's CONNECT
tunnels and by the TCP gate that stands in front of PostgreSQL."""

from __future__ import annotations

import contextlib
import socket
import threading


def pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def relay(a: socket.socket, b: socket.socket) -> threading.Thread:
    """Pump both ways in the background; returns the thread of the b → a direction."""
    back = threading.Thread(target=pump, args=(b, a), daemon=True)
    back.start()
    threading.Thread(target=pump, args=(a, b), daemon=True).start()
    return back
