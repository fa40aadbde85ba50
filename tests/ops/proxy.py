"""A TCP proxy that a test can cut, black-hole and restore: real outages of a real service.

It listens on a port of this suite's range on 127.0.0.1 and forwards every connection to
the target (PostgreSQL, Redis). ``cut()`` closes the listener and every open connection,
as a stopped server does (new connections are refused); ``black_hole()`` accepts
connections and never answers, as a network that drops packets does; ``restore()`` puts
the forwarding back on the same port.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

PORTS = range(18150, 18200)


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "forward"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = self._bind_free_port()
        self._start()

    # --- controls --------------------------------------------------------------------

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        self.mode = "cut"
        self._stop_listening()
        self._drop_connections()

    def black_hole(self) -> None:
        """Accept connections and send nothing, ever; drop the open forwarded ones."""
        self.mode = "black_hole"
        self._drop_connections()
        if self._listener is None:
            self._listen_again()

    def restore(self) -> None:
        self.mode = "forward"
        self._drop_connections()
        if self._listener is None:
            self._listen_again()

    def close(self) -> None:
        self.mode = "cut"
        self._stop_listening()
        self._drop_connections()

    # --- machinery -------------------------------------------------------------------

    def _bind_free_port(self) -> int:
        for port in PORTS:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind(("127.0.0.1", port))
            except OSError:
                listener.close()
                continue
            listener.listen(64)
            self._listener = listener
            return port
        raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")

    def _listen_again(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._start()

    def _start(self) -> None:
        listener = self._listener
        assert listener is not None
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _drop_connections(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                self._sockets.add(client)
            if self.mode == "black_hole":
                continue  # held open, never read from or answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.add(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _events in selector.select(timeout=1):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()
