"""Mail servers a test runs on loopback: just enough SMTP for Django's backend."""

from __future__ import annotations

import email
import socket
import threading
import time


class _Server:
    """A TCP server on 127.0.0.1 with one thread per connection; `handle(conn)` does the talking."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            self.connected.set()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopped.set()
        self.sock.close()
        for conn in self.connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class StallingSMTP(_Server):
    """Accepts the connection and never says hello: the worker sits mid-send until it is killed."""

    def handle(self, conn):
        self.stopped.wait()


class RecordingSMTP(_Server):
    """Just enough SMTP for Django's backend; waits `delay` seconds before accepting each message,
    so a second worker arrives while the first is still sending."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.messages: list[email.message.Message] = []
        super().__init__()

    def handle(self, conn):
        reader = conn.makefile("rb")
        conn.sendall(b"220 test ESMTP\r\n")
        while line := reader.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                conn.sendall(b"250 test\r\n")
            elif command == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                data = b""
                while (chunk := reader.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                time.sleep(self.delay)
                self.messages.append(email.message_from_bytes(data))
                conn.sendall(b"250 queued\r\n")
            elif command == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")
