"""A plain forwarding HTTP proxy that resolves names itself, as a deployment's proxy would.

`GET http://name:port/path` (absolute form) is sent on to whatever `name` resolves to *now*
(the system resolver, so inside a hostile_net namespace its scripted DNS server), in origin
form with the client's headers; `CONNECT name:port` opens a tunnel to it. Every request is
logged (`log`: method, target, Host header, the address connected to), so a test sees which
names the proxy had to resolve.

    proxy = ForwardProxy("127.0.0.5", 3128).start()   # a thread with its own event loop
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from urllib.parse import urlsplit

CHUNK = 64 * 1024


class ForwardProxy:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.log: list[dict] = []
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ForwardProxy:
        threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("forward proxy did not start")
        return self

    async def _main(self) -> None:
        server = await asyncio.start_server(self._serve, self.host, self.port)
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ")
            # One request per connection: the next one is resolved afresh.
            headers = [
                line
                for line in lines
                if not line.lower().startswith(("proxy-", "connection:", "keep-alive:"))
            ] + ["Connection: close"]
            host_header = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in lines
                    if line.lower().startswith("host:")
                ),
                None,
            )
            parts = urlsplit("//" + target if method == "CONNECT" else target)
            name, port = parts.hostname or "", parts.port or (443 if method == "CONNECT" else 80)
            entry = {"method": method, "target": target, "host": host_header, "connected": None}
            self.log.append(entry)
            # The proxy's own lookup: this is the answer a rebinding name gives the second time.
            infos = await asyncio.get_running_loop().getaddrinfo(
                name, port, family=socket.AF_INET, type=socket.SOCK_STREAM
            )
            address = infos[0][4][0]
            entry["connected"] = address
            up_reader, upstream = await asyncio.open_connection(address, port)
            if method == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                upstream.write(
                    f"{method} {path} {version}\r\n".encode("latin-1")
                    + "".join(f"{line}\r\n" for line in headers).encode("latin-1")
                    + b"\r\n"
                )
            copies = [
                asyncio.ensure_future(_copy(reader, upstream)),
                asyncio.ensure_future(_copy(up_reader, writer)),
            ]
            _, pending = await asyncio.wait(copies, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            if not writer.is_closing():
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        finally:
            for stream in (writer, upstream):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
