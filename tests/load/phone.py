"""A small HTTP/1.1 client on asyncio streams, one connection per simulated phone.

The load generator measures each request from the moment it is written to the moment
the last byte of the reply is read, on a connection of its own member (as a phone keeps
one): nothing is pooled between members, so no member waits for another's request in
the client. Only what the quiz API needs: ``Content-Length`` or chunked replies,
cookies, keep-alive when the server offers it (gthread), a new connection when it closes
them (sync workers). Standard library only, so it runs with any virtualenv.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any


class TransportError(Exception):
    """The server closed the connection, refused it or did not answer in time."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Phone:
    """One member's client: cookies, CSRF token, one connection at a time."""

    base: str
    timeout: float = 60.0
    # Say "HTTPS" as nginx would (production); False for a plain-HTTP test server.
    secure: bool = True
    cookies: dict[str, str] = field(default_factory=dict)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base)
        if parts.scheme != "http":
            raise ValueError("the load generator talks plain HTTP to gunicorn, as nginx does")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        # The production settings redirect plain HTTP and trust X-Forwarded-Proto only
        # from the proxy: gunicorn believes it from 127.0.0.1, as behind nginx.
        self.origin = f"{'https' if self.secure else 'http'}://{parts.netloc}"

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
    ) -> Reply:
        payload = b""
        headers = {
            "Host": f"{self.host}:{self.port}",
            "Accept-Language": "zh-hans",
            "User-Agent": "dangjian-load-spike",
            "Accept": "application/json" if path.startswith("/api/") else "text/html",
        }
        if self.secure:
            headers["X-Forwarded-Proto"] = "https"
        if form is not None:
            payload = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method not in {"GET", "HEAD"}:
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            headers["Content-Length"] = str(len(payload))
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        message = head.encode() + b"\r\n" + payload
        started = time.monotonic()
        reused = self._writer is not None
        try:
            try:
                reply = await asyncio.wait_for(self._exchange(message), self.timeout)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as error:
                if not reused or getattr(error, "partial", b""):
                    raise
                # The server closed the kept-alive connection while it was idle: once
                # more on a new one, as a browser does (timed from the first try).
                await self.close()
                reply = await asyncio.wait_for(self._exchange(message), self.timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            await self.close()
            raise TransportError(f"{type(error).__name__}: {error}") from error
        status, reply_headers, data, keep = reply
        if not keep:
            await self.close()
        for value in reply_headers.get("set-cookie", "").split("\n"):
            if "=" in value:
                name, _sep, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Reply(status, reply_headers, data, time.monotonic() - started)

    async def _exchange(self, message: bytes) -> tuple[int, dict[str, str], bytes, bool]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(message)
        await self._writer.drain()
        status_line = await self._reader.readuntil(b"\r\n")
        version, status, *_reason = status_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            line = (await self._reader.readuntil(b"\r\n")).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _sep, value = line.partition(":")
            key = name.strip().lower()
            value = value.strip()
            # Several Set-Cookie lines: kept one per line.
            headers[key] = f"{headers[key]}\n{value}" if key in headers else value
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = await self._reader.readexactly(int(headers.get("content-length", "0")))
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        return int(status), headers, data, keep

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)
